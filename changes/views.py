"""Staff pages of change management: the list, a new change (also from a
change-request ticket), and a change's page with its execution and outcome."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from changes.classifier import QUESTIONS
from changes.forms import QUESTION_LABELS, CausedIncidentForm, ChangeForm, OutcomeForm
from changes.models import Change, ChangeStatus
from changes.services import (
    change_from_ticket,
    change_link_caused_incident,
    change_record_outcome,
    change_start,
    change_submit,
)
from events.services import history_of
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors
from tickets.selectors import ticket_get

VIEW = "changes.view_change"
CHANGE = "changes.change_change"


def change_get(number: str) -> Change:
    change = (
        Change.objects.select_related("customer", "ticket", "requester")
        .filter(number=number)
        .first()
    )
    if change is None:
        raise Http404
    return change


@permission_required(VIEW)
def change_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    changes = Change.objects.select_related("customer").order_by("-created_at")
    if status in ChangeStatus.values:
        changes = changes.filter(status=status)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "changes/change_list.html",
        {"page": page, "status": status, "statuses": ChangeStatus.choices},
    )


@permission_required("changes.add_change")
def change_new(request: HttpRequest) -> HttpResponse:
    """A new change; with ?ticket=T-… a change-request ticket becomes the change."""
    origin = request.GET.get("ticket") or ""
    ticket = ticket_get(user=request.user, number=origin) if origin else None
    initial: dict[str, Any] = {}
    if ticket is not None:
        initial = {
            "subject": ticket.subject,
            "customer": ticket.customer.number if ticket.customer else "",
            "impact": ticket.impact,
            "urgency": ticket.urgency,
        }
    form = ChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        try:
            if ticket is not None:
                arguments.pop("customer")
                change = change_from_ticket(
                    ticket=ticket, actor=request.user, now=timezone.now(), **arguments
                )
            else:
                change = change_submit(actor=request.user, now=timezone.now(), **arguments)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Change %(number)s submitted.") % {"number": change.number})
            return redirect("change-detail", change.number)
    questions = [(form[q], form[f"{q}_why"]) for q in QUESTIONS]
    return render(
        request,
        "changes/change_new.html",
        {"form": form, "questions": questions, "ticket": ticket},
        status=400 if request.method == "POST" else 200,
    )


def _page(request: HttpRequest, change: Change, status: int = 200, **forms: Any) -> HttpResponse:
    answers = [
        (QUESTION_LABELS[q], answer, change.justifications.get(q, ""))
        for q, answer in change.answers.items()
    ]
    context = {
        "change": change,
        "answers": answers,
        "advice": change.advice.select_related("member").order_by("given_at"),
        "caused": change.caused_incidents.order_by("-created_at"),
        "history": history_of(change).order_by("-created_at"),
        "outcome_form": forms.get("outcome_form") or OutcomeForm(),
        "incident_form": forms.get("incident_form") or CausedIncidentForm(),
        "can_start": change.status == ChangeStatus.APPROVED
        or (change.status == ChangeStatus.SUBMITTED and change.classification == "minor"),
    }
    return render(request, "changes/change_detail.html", context, status=status)


@permission_required(VIEW)
def change_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, change_get(number))


@require_POST
@permission_required(CHANGE)
def change_start_view(request: HttpRequest, number: str) -> HttpResponse:
    change = change_get(number)
    try:
        change_start(change=change, actor=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("change-detail", change.number)


@require_POST
@permission_required(CHANGE)
def change_outcome_view(request: HttpRequest, number: str) -> HttpResponse:
    change = change_get(number)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            change_record_outcome(
                change=change, actor=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("change-detail", change.number)
    return _page(request, change_get(number), status=400, outcome_form=form)


@require_POST
@permission_required(CHANGE)
def change_incident_view(request: HttpRequest, number: str) -> HttpResponse:
    change = change_get(number)
    form = CausedIncidentForm(request.POST)
    if form.is_valid():
        try:
            ticket = ticket_get(user=request.user, number=form.cleaned_data["ticket"].strip())
            change_link_caused_incident(
                change=change, ticket=ticket, actor=request.user, now=timezone.now()
            )
        except Http404:
            form.add_error("ticket", _("No ticket has this number."))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("change-detail", change.number)
    return _page(request, change_get(number), status=400, incident_form=form)
