"""The update pages under /network/updates/. Update numbers are matched
exactly (U-000012) so that the other pages here never look like an update."""

from django.urls import path, re_path

from inventory import update_views as views

NUMBER = r"(?P<number>U-\d{6,})"

urlpatterns = [
    path("", views.planning, name="inventory-updates"),
    path("behind/", views.behind, name="inventory-updates-behind"),
    path("releases/new/", views.release_new, name="inventory-release-new"),
    path("new/", views.update_new, name="inventory-update-new"),
    re_path(rf"^{NUMBER}/$", views.update_detail, name="inventory-update"),
    re_path(rf"^{NUMBER}/research/$", views.update_research_view, name="inventory-update-research"),
    re_path(rf"^{NUMBER}/schedule/$", views.update_schedule_view, name="inventory-update-schedule"),
    re_path(rf"^{NUMBER}/approve/$", views.update_approve_view, name="inventory-update-approve"),
    re_path(rf"^{NUMBER}/test/$", views.update_test_view, name="inventory-update-test"),
    re_path(rf"^{NUMBER}/install/$", views.update_install_view, name="inventory-update-install"),
    re_path(rf"^{NUMBER}/verify/$", views.update_verify_view, name="inventory-update-verify"),
    re_path(rf"^{NUMBER}/register/$", views.update_register_view, name="inventory-update-register"),
    re_path(rf"^{NUMBER}/fail/$", views.update_fail_view, name="inventory-update-fail"),
]
