"""Pages of Network (configuration items), mounted at /network/. Items live
under items/<reference>/ (hostname, or serial number while it has none), so
a hostname can never shadow stock/, updates/ or deliveries/."""

from django.urls import path

from inventory import item_views as views

ITEM = "items/<str:reference>/"
SECRET = ITEM + "secrets/<uuid:public_id>/"

urlpatterns = [
    path("", views.item_list, name="network"),
    path("new/", views.item_new, name="inventory-item-new"),
    path("export.csv", views.item_export, name="inventory-item-export"),
    path(ITEM, views.item_detail, name="inventory-item"),
    path(ITEM + "edit/", views.item_edit, name="inventory-item-edit"),
    path(ITEM + "status/", views.item_status, name="inventory-item-status"),
    path(ITEM + "ips/", views.item_ip_add, name="inventory-item-ip-add"),
    path(ITEM + "ips/remove/", views.item_ip_remove, name="inventory-item-ip-remove"),
    path(ITEM + "software/", views.item_software_set, name="inventory-item-software-set"),
    path(
        ITEM + "software/remove/",
        views.item_software_remove,
        name="inventory-item-software-remove",
    ),
    path(ITEM + "secrets/", views.item_secret_store, name="inventory-item-secret-store"),
    path(SECRET + "reveal/", views.item_secret_reveal, name="inventory-item-secret-reveal"),
    path(SECRET + "remove/", views.item_secret_remove, name="inventory-item-secret-remove"),
]
