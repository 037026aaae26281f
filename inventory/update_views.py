"""Staff pages of machine updates: the planning (open updates by appointment),
the machines whose software is behind, registering a release, a candidate by
hand, and an update's page with each step (who, when, what) and the form of
the step that is next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from events.models import Event
from events.services import history_of
from inventory.models import ConfigurationItem, MachineUpdate, UpdateStatus
from inventory.update_forms import (
    CandidateForm,
    FailForm,
    RegisterForm,
    ReleaseForm,
    ResearchForm,
    ScheduleForm,
    StaffApprovalForm,
    TestForm,
    VerifyForm,
)
from inventory.update_selectors import (
    machines_behind,
    update_get,
    updates_closed,
    updates_planning,
)
from inventory.update_services import (
    HOLDING_APPOINTMENT,
    software_release_register,
    update_approve,
    update_create,
    update_fail,
    update_install,
    update_register,
    update_research,
    update_schedule,
    update_test,
    update_verify,
)
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors

VIEW = "inventory.view_machineupdate"
ADD = "inventory.add_machineupdate"
CHANGE = "inventory.change_machineupdate"
PAGE_SIZE = 50
RECENT = 10


@permission_required(VIEW)
def planning(request: HttpRequest) -> HttpResponse:
    """Open updates, the next appointment first; filter by status."""
    status = request.GET.get("status", "")
    updates = updates_planning(request.user)
    if status in UpdateStatus.values:
        updates = updates.filter(status=status)
    page = Paginator(updates, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": [
            (value, label)
            for value, label in UpdateStatus.choices
            if value not in (UpdateStatus.DONE, UpdateStatus.NOT_APPLICABLE)
        ],
        "closed": updates_closed(request.user)[:RECENT],
        "now": timezone.now(),
    }
    return render(request, "inventory/updates/planning.html", context)


@permission_required(VIEW)
def behind(request: HttpRequest) -> HttpResponse:
    """Machines whose software is older than the newest known release."""
    software = request.GET.get("q", "").strip()
    machines = machines_behind(software=software)
    page = Paginator(machines, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inventory/updates/behind.html", {"page": page, "query": software})


@permission_required(ADD)
def release_new(request: HttpRequest) -> HttpResponse:
    """Register a release: machines behind get their update candidates."""
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            release = software_release_register(
                actor=request.user, now=timezone.now(), **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(release)s registered; machines behind have update candidates.")
                % {"release": release},
            )
            return redirect("inventory-updates-behind")
    return render(
        request,
        "inventory/updates/release_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@permission_required(ADD)
def update_new(request: HttpRequest) -> HttpResponse:
    """An update candidate by hand."""
    form = CandidateForm(request.POST or None, initial={"hostname": request.GET.get("machine", "")})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reference = data.pop("hostname").strip()
        item = ConfigurationItem.objects.filter(
            Q(hostname__iexact=reference) | Q(serial_number__iexact=reference)
        ).first()
        if item is None:
            form.add_error("hostname", _("No machine has this hostname or serial number."))
        else:
            try:
                update = update_create(item=item, actor=request.user, now=timezone.now(), **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect(update)
    return render(
        request,
        "inventory/updates/update_new.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- An update and its steps -------------------------------------------------------

# The event that completed each step: its last transition into that state.
STEP_STATES = [
    UpdateStatus.RESEARCHED,
    UpdateStatus.NOT_APPLICABLE,
    UpdateStatus.SCHEDULED,
    UpdateStatus.APPROVED,
    UpdateStatus.TESTED,
    UpdateStatus.INSTALLED,
    UpdateStatus.VERIFIED,
    UpdateStatus.DONE,
    UpdateStatus.FAILED,
]


def _steps(history: list[Event]) -> dict[str, Event | None]:
    steps: dict[str, Event | None] = {"candidate": None, **dict.fromkeys(STEP_STATES)}
    for event in history:
        if event.kind == "update.candidate":
            steps["candidate"] = event
        elif event.kind == "update.transition" and event.to_state in STEP_STATES:
            steps[event.to_state] = event
    return steps


# The form of each step, shown while the update is in one of the states.
FORMS: dict[str, tuple[type[forms.Form], tuple[str, ...]]] = {
    "research_form": (ResearchForm, (UpdateStatus.CANDIDATE,)),
    "schedule_form": (
        ScheduleForm,
        (UpdateStatus.RESEARCHED, UpdateStatus.SCHEDULED, UpdateStatus.FAILED),
    ),
    "approve_form": (StaffApprovalForm, (UpdateStatus.SCHEDULED,)),
    "test_form": (TestForm, (UpdateStatus.APPROVED,)),
    "verify_form": (VerifyForm, (UpdateStatus.INSTALLED,)),
    "register_form": (RegisterForm, (UpdateStatus.VERIFIED,)),
    "fail_form": (FailForm, HOLDING_APPOINTMENT),
}


def _initial(name: str, update: MachineUpdate) -> dict[str, Any]:
    if name == "research_form":
        return {"one_node_at_a_time": bool(update.item.redundancy_group)}
    if name == "schedule_form":
        return {
            "test_plan": update.test_plan,
            "appointment_at": timezone.localtime(update.appointment_at)
            if update.appointment_at
            else None,
        }
    return {}


def _page(
    request: HttpRequest, update: MachineUpdate, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    history = list(history_of(update).order_by("created_at", "id"))
    context: dict[str, Any] = {
        "update": update,
        "item": update.item,
        "steps": _steps(history),
        "history": history[::-1],
        "may_change": request.user.has_perm(CHANGE),
        "customer_approved": bool(update.approved_by and update.approved_by.customer_id),
    }
    if context["may_change"]:
        for name, (form_class, states) in FORMS.items():
            if update.status in states:
                context[name] = bound.get(name) or form_class(initial=_initial(name, update))
    return render(request, "inventory/updates/update_detail.html", context, status=status)


@permission_required(VIEW)
def update_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, update_get(user=request.user, number=number))


Step = Callable[[MachineUpdate, Any, dict[str, Any]], MachineUpdate]


def _step(form_name: str, run: Step) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST that carries out one step: the form, the service, back to the
    update; on an error the page again with the form and its messages."""
    form_class = FORMS[form_name][0] if form_name else None

    @require_POST
    @permission_required(CHANGE)
    def view(request: HttpRequest, number: str) -> HttpResponse:
        update = update_get(user=request.user, number=number)
        form = form_class(request.POST) if form_class else None
        if form is None or form.is_valid():
            data = form.cleaned_data if form is not None else {}
            try:
                run(update, request.user, data)
            except ValidationError as error:
                if form is None:
                    messages.error(request, " ".join(error.messages))
                    return redirect(update)
                add_service_errors(form, error)
            except PermissionDenied as error:
                messages.error(request, str(error))
                return redirect(update)
            else:
                return redirect(update)
        fresh = update_get(user=request.user, number=number)
        return _page(request, fresh, status=400, **{form_name: form})

    return view


update_research_view = _step(
    "research_form",
    lambda update, actor, data: update_research(
        update=update, actor=actor, now=timezone.now(), **data
    ),
)
update_schedule_view = _step(
    "schedule_form",
    lambda update, actor, data: update_schedule(
        update=update, actor=actor, now=timezone.now(), **data
    ),
)
update_approve_view = _step(
    "approve_form",
    lambda update, actor, data: update_approve(
        update=update, actor=actor, now=timezone.now(), **data
    ),
)
update_test_view = _step(
    "test_form",
    lambda update, actor, data: update_test(update=update, actor=actor, now=timezone.now(), **data),
)
update_install_view = _step(
    "",
    lambda update, actor, data: update_install(update=update, actor=actor, now=timezone.now()),
)
update_verify_view = _step(
    "verify_form",
    lambda update, actor, data: update_verify(
        update=update, actor=actor, now=timezone.now(), **data
    ),
)
update_register_view = _step(
    "register_form",
    lambda update, actor, data: update_register(
        update=update, actor=actor, now=timezone.now(), **data
    ),
)
update_fail_view = _step(
    "fail_form",
    lambda update, actor, data: update_fail(update=update, actor=actor, now=timezone.now(), **data),
)
