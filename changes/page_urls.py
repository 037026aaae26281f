"""The change pages: list, new change, a change and its actions. Change
numbers are matched exactly (C-000045) so that other pages under /changes/
(the CAB view, the schedule) never look like a change."""

from django.urls import path, re_path

from changes import views

NUMBER = r"(?P<number>C-\d{6,})"

urlpatterns = [
    path("", views.change_list, name="change-list"),
    path("new/", views.change_new, name="change-new"),
    re_path(rf"^{NUMBER}/$", views.change_detail, name="change-detail"),
    re_path(rf"^{NUMBER}/start/$", views.change_start_view, name="change-start"),
    re_path(rf"^{NUMBER}/outcome/$", views.change_outcome_view, name="change-outcome"),
    re_path(rf"^{NUMBER}/incidents/$", views.change_incident_view, name="change-incident"),
]
