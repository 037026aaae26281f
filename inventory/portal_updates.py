"""Portal pages of machine updates: the company's updates with their
appointment, and approving an appointment. Every update is read through
portal_update_get(user=...), so another company's update answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inventory.models import MachineUpdate, UpdateStatus
from inventory.update_forms import PortalApprovalForm
from inventory.update_selectors import portal_update_get, portal_updates
from inventory.update_services import update_approve
from servicedesk.lib.access import customer_required

PAGE_SIZE = 25


@customer_required
def updates(request: HttpRequest) -> HttpResponse:
    """Updates waiting for the customer's approval first, then the others by
    appointment, newest first."""
    visible = portal_updates(request.user)
    context = {
        "waiting": visible.filter(status=UpdateStatus.SCHEDULED).order_by("appointment_at"),
        "page": Paginator(visible.exclude(status=UpdateStatus.SCHEDULED), PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
    }
    return render(request, "portal/updates.html", context)


def _page(
    request: HttpRequest,
    update: MachineUpdate,
    form: PortalApprovalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "update": update,
        "form": form or PortalApprovalForm(),
        "may_approve": update.status == UpdateStatus.SCHEDULED,
    }
    return render(request, "portal/update_detail.html", context, status=status)


@customer_required
def update_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, portal_update_get(user=request.user, number=number))


@require_POST
@customer_required
def update_approve_view(request: HttpRequest, number: str) -> HttpResponse:
    update = portal_update_get(user=request.user, number=number)
    form = PortalApprovalForm(request.POST)
    if form.is_valid():
        try:
            update_approve(
                update=update, actor=request.user, now=timezone.now(), **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as error:
            fresh = portal_update_get(user=request.user, number=number)
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            if fresh.status != UpdateStatus.SCHEDULED:
                # Approved meanwhile (a colleague, or staff recording a call):
                # the form is gone, so the reason goes on the page as a message.
                messages.error(request, text)
                return redirect("portal:update-detail", update.number)
            form.add_error(None, text)
            return _page(request, fresh, form=form, status=400)
        messages.success(request, _("Thank you: the appointment is approved."))
        return redirect("portal:update-detail", update.number)
    return _page(request, update, form=form, status=400)


urlpatterns = [
    path("updates/", updates, name="updates"),
    path("updates/<str:number>/", update_detail, name="update-detail"),
    path("updates/<str:number>/approve/", update_approve_view, name="update-approve"),
]
