"""Staff pages of deliveries: the delivery board, the structured request
form (a sales hand-over or a customer order), a delivery's page with its
checklist and actions, and the environment document (HTML and PDF)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from events.services import history_of
from inventory import delivery_services as services
from inventory.delivery_documents import confirmation_letter, document_html, document_pdf
from inventory.delivery_forms import (
    AssignForm,
    CancelForm,
    DeliveryRequestForm,
    IssueForm,
    NoteForm,
    RegisterForm,
    StepForm,
)
from inventory.delivery_selectors import delivery_board, delivery_checklist, delivery_get
from inventory.models import Delivery, DeliveryStatus, DeliveryStepName
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors

VIEW = "inventory.view_delivery"
CHANGE = "inventory.change_delivery"
ADD = "inventory.add_delivery"


@permission_required(VIEW)
def board(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {"columns": delivery_board(request.user, today=timezone.localdate(now)), "now": now}
    return render(request, "inventory/deliveries/board.html", context)


@permission_required(ADD)
def delivery_new(request: HttpRequest) -> HttpResponse:
    """A sales hand-over or a customer order, as a structured request."""
    form = DeliveryRequestForm(request.POST or None, initial={"origin": "handover"})
    if request.method == "POST":
        if form.is_valid():
            try:
                delivery = services.delivery_request(
                    requested_by=request.user,  # type: ignore[arg-type]
                    now=timezone.now(),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Delivery %(number)s requested.") % {"number": delivery.number}
                )
                return redirect(delivery)
        return render(request, "inventory/deliveries/new.html", {"form": form}, status=400)
    return render(request, "inventory/deliveries/new.html", {"form": form})


# Every form on the delivery page, with ids of its own.
PAGE_FORMS: dict[str, type[forms.Form]] = {
    "register_form": RegisterForm,
    "assign_form": AssignForm,
    "issue_form": IssueForm,
    "retest_form": NoteForm,
    "complete_form": NoteForm,
    "cancel_form": CancelForm,
}


def _auto_id(name: str) -> str:
    return f"{name.removesuffix('_form')}_%s"


def _page(
    request: HttpRequest, delivery: Delivery, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    forms_ = {name: cls(auto_id=_auto_id(name)) for name, cls in PAGE_FORMS.items()}
    if delivery.engineer_id:
        forms_["assign_form"] = AssignForm(
            auto_id=_auto_id("assign_form"),
            initial={"engineer": delivery.engineer.username},  # type: ignore[union-attr]
        )
    forms_.update(bound)
    rows = delivery_checklist(delivery)
    done = {row.step for row in rows if row.done}
    may_change = request.user.has_perm(CHANGE)
    item_url = ""
    if delivery.item is not None:
        try:
            item_url = delivery.item.get_absolute_url()
        except NoReverseMatch:  # the machine pages are not mounted (yet)
            item_url = ""
    context = {
        "delivery": delivery,
        "item_url": item_url,
        "rows": rows,
        "may_change": may_change,
        "is_open": delivery.status not in (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED),
        "may_register": delivery.item_id is None
        and any(r.step == DeliveryStepName.REGISTERED and r.may_record for r in rows),
        "may_retest": delivery.status == DeliveryStatus.IN_PROGRESS
        and DeliveryStepName.CUSTOMER_ACCOUNT in done,
        "may_confirm": any(
            r.step == DeliveryStepName.CONFIRMATION_SENT and r.may_record for r in rows
        ),
        "may_complete": any(r.step == DeliveryStepName.HANDED_OVER and r.may_record for r in rows),
        "may_cancel": delivery.status in (DeliveryStatus.REQUESTED, DeliveryStatus.IN_PROGRESS),
        "issues": delivery.issues.select_related("recorded_by"),
        "rounds": history_of(delivery)
        .filter(kind__in=["delivery.customer_accepted", "delivery.customer_rejected"])
        .order_by("created_at"),
        "history": history_of(delivery).order_by("-created_at")[:100],
        **forms_,
    }
    return render(request, "inventory/deliveries/detail.html", context, status=status)


@permission_required(VIEW)
def delivery_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, delivery_get(user=request.user, number=number))


def _action(
    form_name: str | None,
    form_class: type[forms.Form] | None,
    perform: Callable[[HttpRequest, Delivery, dict[str, Any]], str],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST from the delivery page: validate, call the service, and on an
    error show the page again with the form's errors (never a 500)."""

    @require_POST
    @permission_required(CHANGE)
    def view(request: HttpRequest, number: str) -> HttpResponse:
        delivery = delivery_get(user=request.user, number=number)
        name = form_name or "step_form"
        form = (form_class or StepForm)(request.POST, auto_id=_auto_id(name))
        if form.is_valid():
            try:
                done = perform(request, delivery, form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect(delivery)
        delivery = delivery_get(user=request.user, number=number)
        return _page(request, delivery, status=400, **{name: form})

    return view


def _now() -> Any:
    return timezone.now()


def _step(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_step_record(
        delivery=delivery,
        step=data["step"],
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
        note=data["note"],
    )
    return _("“%(step)s” recorded.") % {"step": services.step_label(data["step"])}


@sensitive_variables("data")
def _register(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    fields = {
        name: data[name]
        for name in ("hostname", "serial_number", "machine_type", "location", "rack")
        if data.get(name) not in (None, "")
    }
    delivery = services.delivery_machine_register(
        delivery=delivery,
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
        item=data["existing"],
        password=data["password"],
        note=data["note"],
        **fields,
    )
    return _("Machine %(machine)s registered.") % {"machine": delivery.item}


def _assign(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_assign(
        delivery=delivery,
        engineer=data["engineer"],
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
    )
    return _("Assigned to %(name)s.") % {"name": data["engineer"].display_name()}


def _issue(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_issue_record(
        delivery=delivery,
        description=data["description"],
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
    )
    return _("Issue recorded.")


def _retest(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_retest(
        delivery=delivery,
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
        note=data["note"],
    )
    return _("The customer can test again.")


def _confirm(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_confirm(delivery=delivery, actor=request.user, now=_now())  # type: ignore[arg-type]
    return _("Confirmation letter sent.")


def _complete(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_complete(
        delivery=delivery,
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
        note=data["note"],
    )
    return _("Delivery %(number)s delivered.") % {"number": delivery.number}


def _cancel(request: HttpRequest, delivery: Delivery, data: dict[str, Any]) -> str:
    services.delivery_cancel(
        delivery=delivery,
        actor=request.user,  # type: ignore[arg-type]
        now=_now(),
        reason=data["reason"],
    )
    return _("Delivery %(number)s cancelled.") % {"number": delivery.number}


class _Empty(forms.Form):
    pass


delivery_step = _action(None, None, _step)
delivery_register = sensitive_post_parameters("password")(
    _action("register_form", RegisterForm, _register)
)
delivery_assign = _action("assign_form", AssignForm, _assign)
delivery_issue = _action("issue_form", IssueForm, _issue)
delivery_retest = _action("retest_form", NoteForm, _retest)
delivery_confirm = _action("confirm_form", _Empty, _confirm)
delivery_complete = _action("complete_form", NoteForm, _complete)
delivery_cancel = _action("cancel_form", CancelForm, _cancel)


@permission_required(VIEW)
def delivery_document(request: HttpRequest, number: str) -> HttpResponse:
    delivery = delivery_get(user=request.user, number=number)
    html = document_html(
        delivery,
        now=timezone.now(),
        back_url=delivery.get_absolute_url(),
        pdf_url=reverse("inventory-delivery-pdf", args=[delivery.number]),
    )
    return HttpResponse(html)


def pdf_response(delivery: Delivery) -> HttpResponse:
    response = HttpResponse(document_pdf(delivery, now=timezone.now()), "application/pdf")
    response["Content-Disposition"] = f'inline; filename="{delivery.number}-environment.pdf"'
    return response


@permission_required(VIEW)
def delivery_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return pdf_response(delivery_get(user=request.user, number=number))


@permission_required(VIEW)
def delivery_letter(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation letter as it would be sent now (a preview)."""
    delivery = delivery_get(user=request.user, number=number)
    return HttpResponse(confirmation_letter(delivery), "text/plain; charset=utf-8")
