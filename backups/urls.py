"""The backup pages: today's checks, a check, the problems board, jobs and
restore tests."""

from django.urls import path

from backups import views

urlpatterns = [
    path("", views.check_today, name="backup-checks"),
    path("checks/<int:pk>/", views.check_detail, name="backup-check"),
    path("checks/<int:pk>/complete/", views.check_complete, name="backup-check-complete"),
    path("lines/<int:pk>/handle/", views.line_handle, name="backup-line-handle"),
    path("problems/", views.problem_board, name="backup-problems"),
    path("problems/<str:number>/", views.problem_detail, name="backup-problem"),
    path("problems/<str:number>/analyse/", views.problem_analyse, name="backup-problem-analyse"),
    path("problems/<str:number>/solve/", views.problem_solve, name="backup-problem-solve"),
    path("jobs/", views.job_list, name="backup-jobs"),
    # Before the job page: "new" would otherwise be read as a job reference.
    path("jobs/new/", views.job_new, name="backup-job-new"),
    path("jobs/<slug:reference>/", views.job_detail, name="backup-job"),
    path("jobs/<slug:reference>/edit/", views.job_edit, name="backup-job-edit"),
    path("restore-tests/", views.restore_tests, name="backup-restore-tests"),
]
