from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from accounts import views as accounts_views
from servicedesk import views as site_views
from tickets import api as tickets_api
from tickets import views as tickets_views

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("customers/", accounts_api.CustomerListView.as_view(), name="customer-list"),
    path(
        "customers/<str:number>/",
        accounts_api.CustomerDetailView.as_view(),
        name="customer-detail",
    ),
    path("tasks/", tickets_api.TaskListView.as_view(), name="task-list"),
    path("tasks/<str:public_id>/", tickets_api.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<str:public_id>/close/", tickets_api.TaskCloseView.as_view(), name="task-close"),
    path("tasks/<str:public_id>/reopen/", tickets_api.TaskReopenView.as_view(), name="task-reopen"),
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
    path("customers/", accounts_views.customer_list, name="customer-list"),
    path("customers/<str:number>/", accounts_views.customer_detail, name="customer-detail"),
    path("portal/", include("portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", site_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
]

handler404 = "servicedesk.views.not_found"
handler500 = "servicedesk.views.server_error"
