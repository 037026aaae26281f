"""Pages of change management. (The API lives under /api/v1/changes/.)"""

from django.urls import path

from changes import cab_views

urlpatterns: list = [
    path("cab/", cab_views.cab, name="cab"),
    path("cab/history/", cab_views.cab_history, name="cab-history"),
    path("cab/<int:meeting_id>/", cab_views.cab_meeting, name="cab-meeting"),
    path("cab/<int:meeting_id>/minutes/", cab_views.cab_minutes, name="cab-minutes"),
    path("cab/changes/<str:number>/advise/", cab_views.cab_advise, name="cab-advise"),
    path("cab/changes/<str:number>/decide/", cab_views.cab_decide, name="cab-decide"),
]
