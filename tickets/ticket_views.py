"""The engineer's ticket pages: the triage queue, the ticket page with its
action forms, a new ticket on behalf of a customer, customer history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Customer
from events.services import history_of
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors
from servicedesk.lib.paging import window
from tickets.forms import (
    AssignForm,
    ClassifyForm,
    DecisionForm,
    EscalationDecisionForm,
    EscalationForm,
    ExtensionForm,
    LinkProblemForm,
    QueueFilterForm,
    ReplyForm,
    ResolveForm,
    StatusForm,
    TicketCreateForm,
    TriageForm,
)
from tickets.models import (
    Attachment,
    Escalation,
    Extension,
    RequestStatus,
    Ticket,
    TicketStatus,
)
from tickets.selectors import (
    queue_counters,
    queue_rows,
    queue_tickets,
    sla_timeline,
    ticket_get,
    ticket_messages,
    tickets_visible_to,
)
from tickets.services import (
    escalation_decide,
    escalation_request,
    extension_decide,
    extension_request,
    ticket_assign,
    ticket_classify,
    ticket_create,
    ticket_message_add,
    ticket_set_customer,
    ticket_transition,
)

VIEW = "tickets.view_ticket"
QUEUE_PAGE_SIZE = 25
CHANGE = "tickets.change_ticket"


@permission_required(VIEW)
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = queue_rows(queue_tickets(user=request.user, filters=filters))
    page = window(qs, page=request.GET.get("page"), size=QUEUE_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "counters": queue_counters(user=request.user),
        "now": timezone.now(),
        "query": query.urlencode(),
    }
    template = "tickets/_queue.html" if request.headers.get("HX-Request") else "tickets/queue.html"
    return render(request, template, context)


@permission_required("tickets.add_ticket")
def ticket_new(request: HttpRequest) -> HttpResponse:
    form = TicketCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("attachment")
        try:
            ticket = ticket_create(
                actor=request.user,
                now=timezone.now(),
                attachments=[upload] if upload else [],
                **data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket %(number)s created.") % {"number": ticket.number})
            return redirect("ticket-detail", ticket.number)
    return render(request, "tickets/ticket_new.html", {"form": form})


PAGE_FORMS: dict[str, tuple[type[forms.Form], str | None]] = {
    "classify_form": (ClassifyForm, None),
    "assign_form": (AssignForm, None),
    "reply_form": (ReplyForm, None),
    "resolve_form": (ResolveForm, None),
    "status_form": (StatusForm, None),
    "extension_form": (ExtensionForm, None),
    "escalation_form": (EscalationForm, None),
    "extension_decision_form": (DecisionForm, "ext"),
    "escalation_decision_form": (EscalationDecisionForm, "esc"),
    "triage_form": (TriageForm, None),
    "problem_link_form": (LinkProblemForm, None),
}


def _page(
    request: HttpRequest, ticket: Ticket, status: int = 200, **overrides: forms.Form
) -> HttpResponse:
    pending_extension = ticket.extensions.filter(status=RequestStatus.REQUESTED).first()
    pending_escalation = ticket.escalations.filter(status=RequestStatus.REQUESTED).first()
    initial: dict[str, dict[str, Any]] = {
        "classify_form": {
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "category": ticket.category,
            "type": ticket.type,
        },
        "assign_form": {
            "assignee": ticket.assignee.username if ticket.assignee else None,
            "department": ticket.department.code if ticket.department else None,
        },
    }
    # Several forms share field names (reason, note); unique ids keep every
    # label tied to its own input.
    defaults: dict[str, forms.Form] = {
        name: form_class(initial=initial.get(name), prefix=prefix, auto_id=f"{name}_%s")
        for name, (form_class, prefix) in PAGE_FORMS.items()
    }
    defaults.update(overrides)
    context = {
        "ticket": ticket,
        "conversation": ticket_messages(ticket=ticket, user=request.user),
        "history": history_of(ticket).order_by("-created_at"),
        "timeline": sla_timeline(ticket),
        "pending_extension": pending_extension,
        "pending_escalation": pending_escalation,
        "extensions_used": ticket.extensions.filter(status=RequestStatus.APPROVED).count(),
        "tasks": ticket_tasks(ticket),
        "articles": ticket.articles.order_by("title"),
        "problems": ticket.problems.order_by("-created_at"),
        "now": timezone.now(),
        **defaults,
    }
    return render(request, "tickets/ticket_detail.html", context, status=status)


def ticket_tasks(ticket: Ticket) -> QuerySet[Any]:
    from django.contrib.contenttypes.models import ContentType

    from tickets.models import Task

    return Task.objects.filter(
        link_type=ContentType.objects.get_for_model(Ticket), link_id=ticket.pk
    ).select_related("assignee")


@permission_required(VIEW)
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, ticket_get(user=request.user, number=number))


def _action(
    form_class: type[forms.Form],
    form_name: str,
    perform: Callable[[HttpRequest, Ticket, dict[str, Any]], str],
    prefix: str | None = None,
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST action of the ticket page: validate the form, call the service,
    and on any error show the page again with the form's errors (never a 500)."""

    @require_POST
    @permission_required(CHANGE)
    def view(request: HttpRequest, number: str) -> HttpResponse:
        ticket = ticket_get(user=request.user, number=number)
        form = form_class(
            request.POST, request.FILES or None, prefix=prefix, auto_id=f"{form_name}_%s"
        )
        if form.is_valid():
            try:
                done = perform(request, ticket, form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("ticket-detail", ticket.number)
        ticket = ticket_get(user=request.user, number=number)
        return _page(request, ticket, status=400, **{form_name: form})

    return view


def _classify(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket = ticket_classify(ticket=ticket, actor=request.user, now=timezone.now(), **data)
    return _("Classified as P%(p)s.") % {"p": ticket.priority}


def _assign(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket_assign(ticket=ticket, actor=request.user, now=timezone.now(), **data)
    return _("Assignment saved.")


def _reply(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    upload = data["attachment"]
    ticket_message_add(
        ticket=ticket,
        body=data["body"],
        public=data["public"],
        actor=request.user,
        now=timezone.now(),
        attachments=[upload] if upload else [],
    )
    return _("Reply sent.") if data["public"] else _("Note added.")


def _resolve(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket_transition(
        ticket=ticket, to=TicketStatus.RESOLVED, actor=request.user, now=timezone.now(), **data
    )
    return _("Resolved; the customer has been told.")


def _status(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket_transition(ticket=ticket, actor=request.user, now=timezone.now(), **data)
    return _("Status changed.")


def _extend(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    extension_request(ticket=ticket, actor=request.user, now=timezone.now(), **data)
    return _("Extension requested from the IT manager.")


def _escalate(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    escalation_request(ticket=ticket, actor=request.user, now=timezone.now(), **data)
    return _("Escalation requested from the head of department.")


def _triage(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    ticket_set_customer(
        ticket=ticket, customer=data["customer"], actor=request.user, now=timezone.now()
    )
    return _("Customer set; the SLA clock runs from the ticket's creation.")


def _decide_extension(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    extension = get_object_or_404(Extension, ticket=ticket, status=RequestStatus.REQUESTED)
    extension_decide(
        extension=extension,
        approve=data["decision"] == "approve",
        note=data["note"],
        actor=request.user,
        now=timezone.now(),
    )
    return _("Extension decided.")


def _decide_escalation(request: HttpRequest, ticket: Ticket, data: dict[str, Any]) -> str:
    escalation = get_object_or_404(Escalation, ticket=ticket, status=RequestStatus.REQUESTED)
    escalation_decide(
        escalation=escalation,
        approve=data["decision"] == "approve",
        note=data["note"],
        engineer=data["engineer"],
        actor=request.user,
        now=timezone.now(),
    )
    return _("Escalation decided.")


ticket_classify_view = _action(ClassifyForm, "classify_form", _classify)
ticket_triage_view = _action(TriageForm, "triage_form", _triage)
ticket_assign_view = _action(AssignForm, "assign_form", _assign)
ticket_reply_view = _action(ReplyForm, "reply_form", _reply)
ticket_resolve_view = _action(ResolveForm, "resolve_form", _resolve)
ticket_status_view = _action(StatusForm, "status_form", _status)
ticket_extend_view = _action(ExtensionForm, "extension_form", _extend)
ticket_escalate_view = _action(EscalationForm, "escalation_form", _escalate)
extension_decide_view = _action(
    DecisionForm, "extension_decision_form", _decide_extension, prefix="ext"
)
escalation_decide_view = _action(
    EscalationDecisionForm, "escalation_decision_form", _decide_escalation, prefix="esc"
)


@permission_required(VIEW)
def customer_history(request: HttpRequest) -> HttpResponse:
    """A customer's tickets, found by customer number or (part of) the name."""
    query = request.GET.get("q", "").strip()
    customers: QuerySet[Customer] = Customer.objects.none()
    page = None
    if query:
        customers = Customer.objects.filter(Q(number=query) | Q(name__icontains=query)).order_by(
            "number"
        )[:20]
        tickets = (
            tickets_visible_to(request.user).filter(customer__in=customers).order_by("-created_at")
        )
        page = Paginator(tickets, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/customer_history.html",
        {"query": query, "customers": customers, "page": page},
    )


def attachment_download(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """An attachment, for whoever may see its message (customers: only public
    messages of their own company's tickets)."""
    if not request.user.is_authenticated:
        return redirect("login")
    attachment = (
        Attachment.objects.select_related("message__ticket").filter(public_id=public_id).first()
    )
    if (
        attachment is None
        or not tickets_visible_to(request.user).filter(pk=attachment.message.ticket_id).exists()
    ):
        raise Http404
    if not attachment.message.public and not request.user.is_staff:
        raise Http404
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.filename
    )
