from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from accounts import views as accounts_views
from backups import api as backups_api
from changes import api as changes_api
from changes import schedule_views as changes_schedule_views
from servicedesk import views as site_views
from tickets import api as tickets_api
from tickets import kb_views, ticket_views
from tickets import views as tickets_views

api_v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("customers/", accounts_api.CustomerListView.as_view(), name="customer-list"),
    path(
        "customers/<str:number>/",
        accounts_api.CustomerDetailView.as_view(),
        name="customer-detail",
    ),
    path("tickets/", tickets_api.TicketListView.as_view(), name="ticket-list"),
    path("tickets/<str:number>/", tickets_api.TicketDetailView.as_view(), name="ticket-detail"),
    path(
        "tickets/<str:number>/messages/",
        tickets_api.TicketMessagesView.as_view(),
        name="ticket-messages",
    ),
    path(
        "tickets/<str:number>/transitions/",
        tickets_api.TicketTransitionView.as_view(),
        name="ticket-transitions",
    ),
    path("call-cards/", tickets_api.CallCardView.as_view(), name="call-cards"),
    path("monitoring/alerts/", tickets_api.MonitoringAlertView.as_view(), name="monitoring-alerts"),
    path("tasks/", tickets_api.TaskListView.as_view(), name="task-list"),
    path("tasks/<str:public_id>/", tickets_api.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<str:public_id>/close/", tickets_api.TaskCloseView.as_view(), name="task-close"),
    path("tasks/<str:public_id>/reopen/", tickets_api.TaskReopenView.as_view(), name="task-reopen"),
    path("backup-runs/", backups_api.BackupRunView.as_view(), name="backup-runs"),
    path("backup-checks/", backups_api.BackupCheckListView.as_view(), name="backup-checks"),
    path("", include("inventory.api_urls")),
    path("changes/", changes_api.ChangeListView.as_view(), name="change-list"),
    path(
        "changes/schedule.ics",
        changes_api.ChangeScheduleFeedView.as_view(),
        name="change-schedule-ics",
    ),
    path("changes/<str:number>/", changes_api.ChangeDetailView.as_view(), name="change-detail"),
    path(
        "changes/<str:number>/advice/",
        changes_api.ChangeAdviceView.as_view(),
        name="change-advice",
    ),
    path(
        "changes/<str:number>/decision/",
        changes_api.ChangeDecisionView.as_view(),
        name="change-decision",
    ),
]

auth = [
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", accounts_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("accounts/", include(auth)),
    path("tasks/", tickets_views.task_list, name="task-list"),
    path("tasks/<str:public_id>/", tickets_views.task_detail, name="task-detail"),
    path("tasks/<str:public_id>/close/", tickets_views.task_close_view, name="task-close"),
    path("tasks/<str:public_id>/reopen/", tickets_views.task_reopen_view, name="task-reopen"),
    path("queue/", ticket_views.queue, name="queue"),
    path("tickets/<str:number>/triage/", ticket_views.ticket_triage_view, name="ticket-triage"),
    path("tickets/new/", ticket_views.ticket_new, name="ticket-new"),
    path("tickets/history/", ticket_views.customer_history, name="customer-history"),
    path("tickets/<str:number>/", ticket_views.ticket_detail, name="ticket-detail"),
    path(
        "tickets/<str:number>/classify/", ticket_views.ticket_classify_view, name="ticket-classify"
    ),
    path("tickets/<str:number>/assign/", ticket_views.ticket_assign_view, name="ticket-assign"),
    path("tickets/<str:number>/reply/", ticket_views.ticket_reply_view, name="ticket-reply"),
    path("tickets/<str:number>/resolve/", ticket_views.ticket_resolve_view, name="ticket-resolve"),
    path("tickets/<str:number>/status/", ticket_views.ticket_status_view, name="ticket-status"),
    path("tickets/<str:number>/extend/", ticket_views.ticket_extend_view, name="ticket-extend"),
    path(
        "tickets/<str:number>/escalate/", ticket_views.ticket_escalate_view, name="ticket-escalate"
    ),
    path(
        "tickets/<str:number>/extension/decide/",
        ticket_views.extension_decide_view,
        name="extension-decide",
    ),
    path(
        "tickets/<str:number>/escalation/decide/",
        ticket_views.escalation_decide_view,
        name="escalation-decide",
    ),
    path("attachments/<uuid:public_id>/", ticket_views.attachment_download, name="attachment"),
    path(
        "tickets/<str:number>/articles/", kb_views.ticket_article_link, name="ticket-article-link"
    ),
    path("tickets/<str:number>/problem/", kb_views.ticket_problem_link, name="ticket-problem-link"),
    path("kb/", kb_views.article_list, name="kb"),
    path("kb/new/", kb_views.article_new, name="article-new"),
    path("kb/search/", kb_views.article_search_partial, name="article-search"),
    path("kb/<uuid:public_id>/", kb_views.article_detail, name="article-detail"),
    path("problems/", kb_views.problem_list, name="problems"),
    path("problems/new/", kb_views.problem_new, name="problem-new"),
    path("problems/<str:number>/", kb_views.problem_detail, name="problem-detail"),
    path("call-cards/", kb_views.call_card_list, name="call-cards"),
    path("call-cards/<uuid:public_id>/ticket/", kb_views.call_card_ticket, name="call-card-ticket"),
    path("customers/", accounts_views.customer_list, name="customer-list"),
    path("customers/<str:number>/", accounts_views.customer_detail, name="customer-detail"),
    path("backups/", include("backups.urls")),
    path("network/", include("inventory.urls")),
    path("reports/", include("reports.urls")),
    path("changes/schedule/", changes_schedule_views.schedule, name="change-schedule"),
    path("changes/", include("changes.urls")),
    path("changes/", include("changes.page_urls")),
    path("portal/", include("portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", site_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
]

handler404 = "servicedesk.views.not_found"
handler500 = "servicedesk.views.server_error"
