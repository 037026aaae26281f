"""The CAB's pages: the next meeting with its agenda, where members advise and
the change manager decides; a meeting's page with its minutes; past meetings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from changes.cab import (
    agenda_of,
    cab_minutes_record,
    emergencies_to_decide,
    meeting_changes,
    next_meeting_start,
)
from changes.classifier import QUESTIONS
from changes.models import CabMeeting, Change, ChangeStatus, Decision
from changes.services import change_advise, change_decide
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors

VIEW = "changes.view_change"
ADVISE = "changes.advise_change"
DECIDE = "changes.decide_change"

YES_NO = [("yes", gettext_lazy("yes")), ("no", gettext_lazy("no"))]


def _yes(value: str) -> bool:
    return value == "yes"


class AdviceForm(forms.Form):
    technically_feasible = forms.TypedChoiceField(
        label=gettext_lazy("Technically feasible?"),
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect,
    )
    within_budget = forms.TypedChoiceField(
        label=gettext_lazy("Within budget?"), choices=YES_NO, coerce=_yes, widget=forms.RadioSelect
    )
    remarks = forms.CharField(
        label=gettext_lazy("Remarks"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class DecisionForm(forms.Form):
    """Approve (the decision alone) or reject (with argumentation and
    alternatives, which the service requires)."""

    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput)
    argumentation = forms.CharField(
        label=gettext_lazy("Argumentation"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    alternatives = forms.CharField(
        label=gettext_lazy("Alternatives"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=gettext_lazy("Minutes"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )


@dataclass
class Card:
    """One change as the CAB sees it, with its forms while it awaits the CAB."""

    change: Change
    answers: list[tuple[str, bool, str]]
    forms: dict[str, forms.Form]
    reject_open: bool = False


FORM_SLOTS: dict[str, type[forms.Form]] = {
    "advice": AdviceForm,
    "approve": DecisionForm,
    "reject": DecisionForm,
}


def _auto_id(slot: str, change: Change) -> str:
    # Every change on the page has the same forms; unique ids keep each label
    # tied to its own input.
    return f"{slot}-{change.number}-%s"


def _initial(slot: str, change: Change, user: Any) -> dict[str, Any]:
    if slot == "approve":
        return {"decision": Decision.APPROVED}
    if slot == "reject":
        return {"decision": Decision.REJECTED}
    # The member's own advice, from the prefetched rows (no query per change).
    own = next((a for a in change.advice.all() if a.member_id == user.pk), None)
    if own is None:
        return {}
    return {
        "technically_feasible": "yes" if own.technically_feasible else "no",
        "within_budget": "yes" if own.within_budget else "no",
        "remarks": own.remarks,
    }


def _card(
    change: Change, user: Any, bound: dict[tuple[int, str], forms.Form], with_forms: bool
) -> Card:
    answers = [
        (_(QUESTIONS[q]), answer, change.justifications.get(q, ""))
        for q, answer in change.answers.items()
    ]
    page_forms: dict[str, forms.Form] = {}
    if with_forms and change.status == ChangeStatus.AWAITING_CAB:
        for slot, form_class in FORM_SLOTS.items():
            key = (change.pk, slot)
            page_forms[slot] = (
                bound.pop(key)
                if key in bound
                else form_class(
                    initial=_initial(slot, change, user), auto_id=_auto_id(slot, change)
                )
            )
    reject = page_forms.get("reject")
    return Card(change, answers, page_forms, reject_open=bool(reject and reject.errors))


def _cards(
    changes: list[Change], user: Any, bound: dict[tuple[int, str], forms.Form], with_forms: bool
) -> list[Card]:
    return [_card(change, user, bound, with_forms) for change in changes]


def _cab_page(
    request: HttpRequest,
    status: int = 200,
    bound: dict[tuple[int, str], forms.Form] | None = None,
) -> HttpResponse:
    bound = dict(bound or {})
    starts_at = next_meeting_start(timezone.now())
    # Reading the page must not write: before the hourly task (or the first
    # major change) has created the meeting, an unsaved one stands in.
    meeting = CabMeeting.objects.filter(starts_at=starts_at).first() or CabMeeting(
        starts_at=starts_at
    )
    agenda = list(agenda_of(meeting).order_by("created_at"))
    urgent = list(emergencies_to_decide().order_by("created_at"))
    context = {
        "meeting": meeting,
        "urgent": _cards(urgent, request.user, bound, with_forms=True),
        "agenda": _cards([c for c in agenda if not c.emergency], request.user, bound, True),
        "to_review": _cards([c for c in agenda if c.emergency], request.user, bound, False),
    }
    # A form whose change is no longer open for advice or a decision (decided
    # meanwhile in another tab) has no place on the page: say why at the top.
    for form in bound.values():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return render(request, "changes/cab.html", context, status=status)


@permission_required(VIEW)
def cab(request: HttpRequest) -> HttpResponse:
    return _cab_page(request)


def _change_get(number: str) -> Change:
    """A change by its public number; whether it may be advised on or decided
    now is the services' rule, not the page's."""
    change = Change.objects.filter(number=number).first()
    if change is None:
        raise Http404
    return change


Perform = Callable[[HttpRequest, Change, dict[str, Any]], str]


def _action(
    perm: str, form_class: type[forms.Form], slot_of: Callable[[HttpRequest], str], perform: Perform
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST from the CAB page: validate, call the service; on any error the
    page again with the errors at the form of that change (400, never a 500)."""

    @require_POST
    @permission_required(perm)
    def view(request: HttpRequest, number: str) -> HttpResponse:
        change = _change_get(number)
        slot = slot_of(request)
        form = form_class(request.POST, auto_id=_auto_id(slot, change))
        if form.is_valid():
            try:
                done = perform(request, change, form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(f"{reverse('cab')}#change-{change.number}")
        return _cab_page(request, status=400, bound={(change.pk, slot): form})

    return view


def _advise(request: HttpRequest, change: Change, data: dict[str, Any]) -> str:
    change_advise(change=change, actor=request.user, now=timezone.now(), **data)
    return _("Advice on %(number)s saved.") % {"number": change.number}


def _decide(request: HttpRequest, change: Change, data: dict[str, Any]) -> str:
    change = change_decide(change=change, actor=request.user, now=timezone.now(), **data)
    return _("%(number)s is %(decision)s.") % {
        "number": change.number,
        "decision": change.get_decision_display(),
    }


def _decision_slot(request: HttpRequest) -> str:
    return "reject" if request.POST.get("decision") == Decision.REJECTED else "approve"


cab_advise = _action(ADVISE, AdviceForm, lambda request: "advice", _advise)
cab_decide = _action(DECIDE, DecisionForm, _decision_slot, _decide)


def _meeting_page(
    request: HttpRequest,
    meeting: CabMeeting,
    status: int = 200,
    minutes_form: MinutesForm | None = None,
) -> HttpResponse:
    changes = list(meeting_changes(meeting))
    context = {
        "meeting": meeting,
        "past": meeting.starts_at <= timezone.now(),
        "regular": _cards([c for c in changes if not c.emergency], request.user, {}, False),
        "reviewed": _cards([c for c in changes if c.emergency], request.user, {}, False),
        "minutes_form": minutes_form
        or MinutesForm(initial={"minutes": meeting.minutes}, auto_id="minutes-%s"),
    }
    return render(request, "changes/cab_meeting.html", context, status=status)


@permission_required(VIEW)
def cab_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_page(request, get_object_or_404(CabMeeting, pk=meeting_id))


@require_POST
@permission_required(DECIDE)
def cab_minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(CabMeeting, pk=meeting_id)
    form = MinutesForm(request.POST, auto_id="minutes-%s")
    if form.is_valid():
        try:
            cab_minutes_record(
                meeting=meeting,
                minutes=form.cleaned_data["minutes"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Minutes recorded."))
            return redirect("cab-meeting", meeting.pk)
    return _meeting_page(request, meeting, status=400, minutes_form=form)


@permission_required(VIEW)
def cab_history(request: HttpRequest) -> HttpResponse:
    """Meetings that have begun, newest first, with how many changes each had."""
    meetings = (
        CabMeeting.objects.filter(starts_at__lte=timezone.now())
        .annotate(change_count=Count("changes"))
        .order_by("-starts_at")
    )
    page = Paginator(meetings, 50).get_page(request.GET.get("page"))
    return render(request, "changes/cab_history.html", {"page": page})
