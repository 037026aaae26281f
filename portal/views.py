"""The customer portal: the company's tickets, filing a ticket, the
conversation with replies, confirming or rejecting a resolution, and the
SLA of each ticket. Every ticket is read through ticket_get(user=...), so
another company's ticket answers 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import customer_get
from backups.selectors import jobs_visible_to, with_last_status_labels
from changes.models import Change
from portal.forms import ConfirmForm, PortalReplyForm, PortalTicketForm, ReopenForm
from portal.selectors import ALL, CLOSED, OPEN, portal_sla, portal_tickets
from servicedesk.lib.access import customer_required
from servicedesk.lib.forms import add_service_errors
from tickets.models import Channel, Ticket
from tickets.selectors import ticket_get, ticket_messages
from tickets.services import (
    ticket_confirm_resolution,
    ticket_create,
    ticket_message_add,
    ticket_reopen,
)

PAGE_SIZE = 25
HOME_TICKETS = 5


def _service_errors(form: forms.Form, error: ValidationError, rename: dict[str, str]) -> None:
    """The services name their fields after their own arguments (`attachments`,
    `body`); point those errors at this form's fields before showing them."""
    if hasattr(error, "error_dict"):
        error = ValidationError({rename.get(k, k): v for k, v in error.error_dict.items()})
    add_service_errors(form, error)


@customer_required
def home(request: HttpRequest) -> HttpResponse:
    """The customer's start page: their company, its contacts, its SLA and
    the newest open tickets."""
    customer = customer_get(user=request.user, number=request.user.customer.number)  # type: ignore[union-attr]
    context = {
        "customer": customer,
        "colleagues": customer.users.filter(is_active=True),
        "open_tickets": portal_tickets(user=request.user, state=OPEN)[:HOME_TICKETS],
    }
    return render(request, "portal/home.html", context)


@customer_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("status", OPEN)
    if state not in (OPEN, CLOSED, ALL):
        state = OPEN
    page = Paginator(portal_tickets(user=request.user, state=state), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "state": state,
        # _pagination.html keeps a non-default filter in its page links.
        "status": "" if state == OPEN else state,
        "states": [(OPEN, _("Open")), (CLOSED, _("Closed")), (ALL, _("All"))],
    }
    return render(request, "portal/ticket_list.html", context)


@customer_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    form = PortalTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            upload = data["attachment"]
            try:
                ticket = ticket_create(
                    customer=request.user.customer,  # type: ignore[union-attr]
                    subject=data["subject"],
                    message=data["message"],
                    type=data["type"],
                    channel=Channel.PORTAL,
                    requested_priority=data["requested_priority"],
                    actor=request.user,
                    now=timezone.now(),
                    attachments=[upload] if upload else [],
                )
            except ValidationError as error:
                _service_errors(form, error, {"attachments": "attachment"})
            else:
                messages.success(
                    request, _("Ticket %(number)s created.") % {"number": ticket.number}
                )
                return redirect("portal:ticket-detail", ticket.number)
        return render(request, "portal/ticket_new.html", {"form": form}, status=400)
    return render(request, "portal/ticket_new.html", {"form": form})


# Each form on the ticket page gets its own ids, so every label stays tied to
# its own field when several forms are shown together.
PAGE_FORMS: dict[str, type[forms.Form]] = {
    "reply_form": PortalReplyForm,
    "confirm_form": ConfirmForm,
    "reopen_form": ReopenForm,
}


def _auto_id(name: str) -> str:
    return f"{name.removesuffix('_form')}_%s"


def _page(
    request: HttpRequest, ticket: Ticket, status: int = 200, **overrides: forms.Form
) -> HttpResponse:
    now = timezone.now()
    bound: dict[str, forms.Form] = {
        name: form_class(auto_id=_auto_id(name)) for name, form_class in PAGE_FORMS.items()
    }
    bound.update(overrides)
    context = {
        "ticket": ticket,
        "conversation": ticket_messages(ticket=ticket, user=request.user),
        "sla": portal_sla(ticket=ticket, now=now),
        "now": now,
        "auto_close_days": settings.TICKET_AUTO_CLOSE_DAYS,
        **bound,
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


@customer_required
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, ticket_get(user=request.user, number=number))


def _action(
    form_name: str,
    perform: Callable[[HttpRequest, Ticket, dict[str, Any]], str],
    rename: dict[str, str],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST from the ticket page: validate, call the service, and on any
    error show the page again with the form's errors (never a 500)."""

    @customer_required
    @require_POST
    def view(request: HttpRequest, number: str) -> HttpResponse:
        ticket = ticket_get(user=request.user, number=number)
        form = PAGE_FORMS[form_name](
            request.POST, request.FILES or None, auto_id=_auto_id(form_name)
        )
        if form.is_valid():
            try:
                done = perform(request, ticket, form.cleaned_data)
            except ValidationError as error:
                _service_errors(form, error, rename)
            else:
                messages.success(request, done)
                return redirect("portal:ticket-detail", ticket.number)
        return _page(request, ticket, status=400, **{form_name: form})

    return view


def _reply(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    upload = data["attachment"]
    ticket_message_add(
        ticket=ticket,
        body=data["body"],
        public=True,
        actor=request.user,
        now=timezone.now(),
        attachments=[upload] if upload else [],
    )
    return _("Reply sent.")


def _confirm(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket_confirm_resolution(ticket=ticket, actor=request.user, now=timezone.now())
    return _("Thank you for confirming: the ticket is closed.")


def _reopen(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket_reopen(ticket=ticket, reason=data["reason"], actor=request.user, now=timezone.now())
    return _("The ticket is open again; we will look into it.")


ticket_reply = _action("reply_form", _reply, {"attachments": "attachment"})
ticket_confirm = _action("confirm_form", _confirm, {})
ticket_reopen_view = _action("reopen_form", _reopen, {"body": "reason"})


@customer_required
def change_list(request: HttpRequest) -> HttpResponse:
    """The company's changes with their decision and planned window. A change
    is requested by filing a ticket of type "change request"."""
    changes = Change.objects.filter(customer_id=request.user.customer_id).order_by("-created_at")  # type: ignore[union-attr,misc]
    page = Paginator(changes, 25).get_page(request.GET.get("page"))
    return render(request, "portal/change_list.html", {"page": page})


@customer_required
def change_detail(request: HttpRequest, number: str) -> HttpResponse:
    change = (
        Change.objects.filter(customer_id=request.user.customer_id, number=number)  # type: ignore[union-attr,misc]
        .select_related("ticket")
        .first()
    )
    if change is None:
        raise Http404
    return render(request, "portal/change_detail.html", {"change": change})


@customer_required
def backups(request: HttpRequest) -> HttpResponse:
    """The company's active backup jobs with their latest run and next restore
    test; jobs_visible_to scopes them to the user's own company."""
    jobs = jobs_visible_to(request.user).order_by("hostname", "reference")
    return render(request, "portal/backups.html", {"jobs": with_last_status_labels(jobs)})
