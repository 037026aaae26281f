"""The reports pages under /reports/."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.dashboard, name="reports"),
    path("targets/", views.targets, name="report-targets"),
    path("kpis.csv", views.kpis_csv, name="report-kpis-csv"),
    path("tickets.csv", views.tickets_csv, name="report-tickets-csv"),
    path("changes.csv", views.changes_csv, name="report-changes-csv"),
    path("backup-problems.csv", views.backup_problems_csv, name="report-backup-problems-csv"),
    path("tables/<str:code>.csv", views.table_csv, name="report-table-csv"),
]
