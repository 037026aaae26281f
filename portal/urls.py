from django.urls import path

from inventory import portal_urls as network
from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/", views.ticket_list, name="tickets"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<str:number>/reply/", views.ticket_reply, name="ticket-reply"),
    path("tickets/<str:number>/confirm/", views.ticket_confirm, name="ticket-confirm"),
    path("tickets/<str:number>/reopen/", views.ticket_reopen_view, name="ticket-reopen"),
    path("changes/", views.change_list, name="changes"),
    path("changes/<str:number>/", views.change_detail, name="change-detail"),
    path("backups/", views.backups, name="backups"),
    # Machines, updates to approve and deliveries to accept (inventory app).
    *network.urlpatterns,
]
