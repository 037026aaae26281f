from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.audit import client_address
from accounts.forms import LockedOutLoginForm, OutboxPasswordResetForm
from accounts.models import Absence
from accounts.selectors import customer_get, customers_visible_to, on_call_at
from accounts.services import login_is_locked
from events.services import history_of
from servicedesk.lib.access import permission_required, staff_required
from tickets.selectors import task_box


class LoginView(auth_views.LoginView):
    """Django's login (which cycles the session key, so no session fixation)
    with brute-force throttling per username and per address. Failures are
    counted and successes clear them in accounts.audit, for every login path;
    accounts.backends refuses a locked name there too (the admin's login)."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")[:150]
        address = client_address(request)
        if login_is_locked(username=username, ip_address=address, now=timezone.now()):
            form = LockedOutLoginForm(request, data=request.POST)
            form.is_valid()
            return self.render_to_response(self.get_context_data(form=form), status=429)
        request.login_lock_checked = True  # type: ignore[attr-defined]
        return super().post(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: staff go to their overview, customers to the portal."""
    if not request.user.is_authenticated:
        return redirect("login")
    if getattr(request.user, "customer_id", None):
        return redirect("portal:home")
    return staff_home(request)


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    context = {
        "tasks": task_box(user=request.user)[:10],
        "on_call": on_call_at(moment=now),
        "absent_today": Absence.objects.filter(starts_on__lte=today, ends_on__gte=today)
        .select_related("user", "substitute")
        .order_by("user__username"),
    }
    return render(request, "accounts/home.html", context)


@permission_required("accounts.view_customer")
def customer_list(request: HttpRequest) -> HttpResponse:
    customers = customers_visible_to(request.user).order_by("-is_managed", "number")
    query = request.GET.get("q", "").strip()
    if query:
        customers = customers.filter(
            Q(number__startswith=query) | Q(name__icontains=query) | Q(email__icontains=query)
        )
    page = Paginator(customers, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/customer_list.html", {"page": page, "query": query})


@permission_required("accounts.view_customer")
def customer_detail(request: HttpRequest, number: str) -> HttpResponse:
    customer = customer_get(user=request.user, number=number)
    context = {
        "customer": customer,
        "users": customer.users.order_by("username"),
        "history": history_of(customer).order_by("-created_at")[:20],
    }
    return render(request, "accounts/customer_detail.html", context)
