"""Writes for tickets and tasks. Views, the API, mail-in and Celery tasks all
call these functions; none of the rules live anywhere else."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Value
from django.utils.translation import gettext as _

from accounts.models import Customer, Grade, User
from events.services import actor_label, event_record
from tickets.models import (
    ACTIVE_STATUSES,
    TICKET_TRANSITIONS,
    Attachment,
    Category,
    CauseCode,
    Department,
    Escalation,
    Extension,
    Impact,
    Message,
    PriorityMatrix,
    RequestStatus,
    Resolution,
    SlaContract,
    Ticket,
    TicketStatus,
    TicketType,
)
from tickets.sla_services import ticket_sla_apply, ticket_sla_refresh, ticket_sla_state
from tickets.task_services import task_create

# --- Tickets ------------------------------------------------------------------


def priority_for(*, impact: str, urgency: str) -> int:
    """The priority matrix is data (PriorityMatrix): looked up, never branched on."""
    cell = PriorityMatrix.objects.filter(impact=impact, urgency=urgency).first()
    if cell is None:
        raise ValidationError({"impact": _("No priority is defined for this impact and urgency.")})
    return cell.priority


def _is_customer(actor: Any) -> bool:
    return bool(getattr(actor, "customer_id", None))


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


@transaction.atomic
def ticket_create(
    *,
    customer: Customer | None,
    subject: str,
    message: str,
    type: str,
    channel: str,
    category: str = Category.OTHER,
    impact: str | None = None,
    urgency: str | None = None,
    requested_priority: int | None = None,
    actor: Any,
    now: datetime,
    attachments: Sequence[UploadedFile] = (),
    reply_to: str = "",
    author_label: str = "",
) -> Ticket:
    """A new ticket. Without a customer (mail from an unknown sender) it is
    flagged for triage and has no SLA until triage sets the customer."""
    if customer is not None and not customer.active:
        raise ValidationError({"customer": _("This customer is not active.")})
    if _is_customer(actor) and (customer is None or actor.customer_id != customer.pk):
        raise ValidationError({"customer": _("You can only file tickets for your own company.")})
    if not subject.strip():
        raise ValidationError({"subject": _("A ticket needs a subject.")})
    if not message.strip():
        raise ValidationError({"message": _("Describe the problem or the request.")})
    # Classification by staff or an integration counts; a customer only proposes.
    classified = bool(impact and urgency) and not _is_customer(actor)
    impact, urgency = impact or Impact.MEDIUM, urgency or Impact.MEDIUM
    ticket = Ticket(
        customer=customer,
        subject=subject.strip(),
        type=type,
        channel=channel,
        category=category,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact=impact, urgency=urgency),
        requested_priority=requested_priority,
        classified=classified,
        is_managed=bool(customer and customer.is_managed),
        needs_triage=customer is None,
        reply_to=reply_to,
        requester=actor if _is_customer(actor) else None,
        sla_contract=customer.sla_contract if customer else None,
        created_at=now,
        updated_at=now,
    )
    # The row is written once, complete: its number (from an id drawn from the
    # sequence first), its SLA state (a new ticket has no history) and its
    # full-text document (the conversation is the one message below). A later
    # UPDATE would write a second version of the row into every index.
    ticket.pk = _next_ticket_id()
    if ticket.pk is not None:
        ticket.number = _ticket_number(ticket.pk)
    ticket_sla_apply(ticket, ticket_sla_state(ticket, now=now, history=[]))
    search = _search_document(ticket, [message])
    if search:
        ticket.search_vector = search["search_vector"]
    ticket.save(force_insert=True)
    if ticket.number is None:  # no sequence to draw from (SQLite): numbered after the INSERT
        ticket.number = _ticket_number(ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    # Deferred from here on, as in every read of a ticket: a later save() of
    # this instance leaves the stored document alone.
    ticket.__dict__.pop("search_vector", None)
    event_record(
        obj=ticket,
        kind="ticket.created",
        actor=actor,
        now=now,
        to_state=TicketStatus.NEW,
        data={"priority": ticket.priority, "channel": channel, "contract": _contract_code(ticket)},
    )
    _message_create(
        ticket=ticket,
        body=message,
        public=True,
        actor=actor,
        now=now,
        files=attachments,
        author_label=author_label,
        from_customer=customer is None or _is_customer(actor) or bool(reply_to),
    )
    return ticket


def _ticket_number(pk: int) -> str:
    return f"T-{pk:06d}"


def _next_ticket_id() -> int | None:
    """The id the next ticket gets, from its sequence (PostgreSQL), or None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row else None


@transaction.atomic
def ticket_set_customer(*, ticket: Ticket, customer: Customer, actor: Any, now: datetime) -> Ticket:
    """Triage of a ticket from an unknown sender: it gets its customer, and
    with it the customer's contract and the SLA clock from its creation."""
    ticket = _lock(ticket)
    before = ticket.customer.number if ticket.customer else ""
    ticket.customer, ticket.needs_triage = customer, False
    ticket.is_managed, ticket.sla_contract = customer.is_managed, customer.sla_contract
    ticket.updated_at = now
    ticket.save(
        update_fields=["customer", "needs_triage", "is_managed", "sla_contract", "updated_at"]
    )
    event_record(
        obj=ticket,
        kind="ticket.customer_set",
        actor=actor,
        now=now,
        from_state=before,
        to_state=customer.number,
    )
    ticket_search_refresh(ticket)
    return ticket_sla_refresh(ticket=ticket, now=now)


def ticket_search_refresh(ticket: Ticket) -> None:
    """Rebuild the ticket's full-text document (PostgreSQL only): subject,
    number, customer, mail address and the conversation."""
    if connection.vendor != "postgresql":
        return
    bodies = ticket.messages.order_by("id").values_list("body", flat=True)[:500]
    Ticket.objects.filter(pk=ticket.pk).update(**_search_document(ticket, list(bodies)))


def _search_document(ticket: Ticket, bodies: Sequence[str]) -> dict[str, Any]:
    """The `search_vector` column's new value (PostgreSQL only) from the
    ticket and the bodies of its conversation."""
    if connection.vendor != "postgresql":
        return {}
    customer = ticket.customer
    parts = [
        ticket.number or "",
        ticket.subject,
        ticket.reply_to,
        customer.number if customer else "",
        customer.name if customer else "",
        *bodies,
    ]
    text = " ".join(parts)[:500_000]
    return {"search_vector": SearchVector(Value(text), config="simple")}


def _contract_code(ticket: Ticket) -> str:
    return ticket.sla_contract.code if ticket.sla_contract else ""


def _message_create(
    *,
    ticket: Ticket,
    body: str,
    public: bool,
    actor: Any,
    now: datetime,
    files: Sequence[UploadedFile],
    author_label: str = "",
    from_customer: bool | None = None,
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        author=actor if isinstance(actor, User) else None,
        author_label=(author_label or actor_label(actor))[:150],
        from_customer=_is_customer(actor) if from_customer is None else from_customer,
        public=public,
        body=body,
        created_at=now,
    )
    for upload in files:
        attachment_store(message=message, upload=upload)
    return message


def attachment_store(*, message: Message, upload: UploadedFile) -> Attachment:
    """Keep an attachment within the size and type limits; the limits are
    checked before anything is written."""
    attachment_check(upload)
    return Attachment.objects.create(
        message=message,
        file=upload,
        filename=(upload.name or "attachment")[:255],
        content_type=upload.content_type or "application/octet-stream",
        size=upload.size or 0,
    )


def attachment_check(upload: UploadedFile) -> None:
    if (upload.size or 0) > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "attachments": _("%(name)s is larger than %(limit)s MB.")
                % {"name": upload.name, "limit": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    if (upload.content_type or "").split(";")[0] not in settings.ATTACHMENT_TYPES:
        raise ValidationError(
            {
                "attachments": _("Files of type %(type)s cannot be attached.")
                % {"type": upload.content_type}
            }
        )


@transaction.atomic
def ticket_message_add(
    *,
    ticket: Ticket,
    body: str,
    public: bool,
    actor: Any,
    now: datetime,
    attachments: Sequence[UploadedFile] = (),
    from_customer: bool | None = None,
    author_label: str = "",
) -> Message:
    """A reply or an internal note. The first public staff reply meets the
    response target; a customer's answer resumes a waiting ticket and reopens
    a resolved one. Mail-in passes `from_customer=True` and the sender as
    `author_label` (it acts as the system, not as a portal user)."""
    ticket = _lock(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError({"body": _("This ticket is closed; open a new one.")})
    if not body.strip():
        raise ValidationError({"body": _("The message is empty.")})
    customer = _is_customer(actor) if from_customer is None else from_customer
    public = True if customer else public
    message = _message_create(
        ticket=ticket,
        body=body,
        public=public,
        actor=actor,
        now=now,
        files=attachments,
        author_label=author_label,
        from_customer=customer,
    )
    ticket_search_refresh(ticket)
    first_response = public and not customer and ticket.first_response_at is None
    if first_response:
        ticket.first_response_at = now
    ticket.updated_at = now
    ticket.save(update_fields=["first_response_at", "updated_at"])
    event_record(
        obj=ticket,
        kind="ticket.message",
        actor=actor,
        now=now,
        data={
            "message": message.pk,
            "public": public,
            "from_customer": customer,
            "first_response": first_response,
        },
    )
    if customer and ticket.status in (TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED):
        reason = (
            "customer replied"
            if ticket.status == TicketStatus.WAITING_ON_CUSTOMER
            else "customer reopened"
        )
        _transition(ticket=ticket, to=TicketStatus.OPEN, actor=actor, now=now, reason=reason)
        return message
    if first_response and ticket.status == TicketStatus.NEW:
        _transition(
            ticket=ticket, to=TicketStatus.OPEN, actor=actor, now=now, reason="first response"
        )
        return message
    ticket_sla_refresh(ticket=ticket, now=now)
    return message


@transaction.atomic
def ticket_classify(
    *,
    ticket: Ticket,
    impact: str,
    urgency: str,
    actor: Any,
    now: datetime,
    category: str | None = None,
    type: str | None = None,
) -> Ticket:
    ticket = _lock(ticket)
    before = ticket.priority
    ticket.impact, ticket.urgency = impact, urgency
    ticket.priority = priority_for(impact=impact, urgency=urgency)
    ticket.category = category or ticket.category
    ticket.type = type or ticket.type
    ticket.classified = True
    ticket.updated_at = now
    ticket.save(
        update_fields=[
            "impact",
            "urgency",
            "priority",
            "category",
            "type",
            "classified",
            "updated_at",
        ]
    )
    event_record(
        obj=ticket,
        kind="ticket.classified",
        actor=actor,
        now=now,
        from_state=f"P{before}",
        to_state=f"P{ticket.priority}",
        data={
            "impact": impact,
            "urgency": urgency,
            "category": ticket.category,
            "type": ticket.type,
        },
    )
    return ticket_sla_refresh(ticket=ticket, now=now)


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    assignee: User | None,
    actor: Any,
    now: datetime,
    department: Department | None = None,
) -> Ticket:
    if assignee is not None and (not assignee.is_staff or not assignee.is_active):
        raise ValidationError({"assignee": _("Tickets go to active staff members only.")})
    ticket = _lock(ticket)
    before = ticket.assignee.username if ticket.assignee else ""
    ticket.assignee = assignee
    ticket.department = department or ticket.department
    ticket.updated_at = now
    ticket.save(update_fields=["assignee", "department", "updated_at"])
    event_record(
        obj=ticket,
        kind="ticket.assigned",
        actor=actor,
        now=now,
        from_state=before,
        to_state=assignee.username if assignee else "",
        data={"department": ticket.department.code if ticket.department else ""},
    )
    return ticket


@transaction.atomic
def ticket_transition(
    *,
    ticket: Ticket,
    to: str,
    actor: Any,
    now: datetime,
    reason: str = "",
    resolution: str = "",
    cause_code: CauseCode | None = None,
    note: str = "",
) -> Ticket:
    """The one place a ticket's status changes (the escalated status is
    reached only through an approved escalation)."""
    if to == TicketStatus.ESCALATED:
        raise ValidationError({"to": _("A ticket is escalated by an approved escalation request.")})
    return _transition(
        ticket=_lock(ticket),
        to=to,
        actor=actor,
        now=now,
        reason=reason,
        resolution=resolution,
        cause_code=cause_code,
        note=note,
    )


def _transition(
    *,
    ticket: Ticket,
    to: str,
    actor: Any,
    now: datetime,
    reason: str = "",
    resolution: str = "",
    cause_code: CauseCode | None = None,
    note: str = "",
) -> Ticket:
    if to not in TicketStatus.values:
        raise ValidationError({"to": _("Unknown status %(to)s.") % {"to": to}})
    if to not in TICKET_TRANSITIONS[ticket.status]:
        raise TransitionError(
            _("A ticket that is %(from)s cannot become %(to)s.")
            % {"from": TicketStatus(ticket.status).label, "to": TicketStatus(to).label}
        )
    fields = ["status", "updated_at"]
    first_response = False
    if to == TicketStatus.RESOLVED:
        _check_resolution(ticket, resolution, cause_code)
        ticket.resolution, ticket.cause_code, ticket.resolution_note = resolution, cause_code, note
        ticket.resolved_at = now
        fields += ["resolution", "cause_code", "resolution_note", "resolved_at"]
        # Telling the customer the resolution answers them, if nothing did before.
        if ticket.first_response_at is None:
            ticket.first_response_at, first_response = now, True
            fields.append("first_response_at")
    elif to == TicketStatus.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    elif ticket.status == TicketStatus.RESOLVED:  # reopened
        ticket.resolution, ticket.cause_code, ticket.resolution_note = "", None, ""
        ticket.resolved_at = None
        fields += ["resolution", "cause_code", "resolution_note", "resolved_at"]
    from_state = ticket.status
    ticket.status, ticket.updated_at = to, now
    ticket.save(update_fields=fields)
    event_record(
        obj=ticket,
        kind="ticket.transition",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
        reason=reason or note,
        data={
            "resolution": resolution,
            "cause_code": cause_code.code if cause_code else "",
            "first_response": first_response,
        },
    )
    return ticket_sla_refresh(ticket=ticket, now=now)


def _check_resolution(ticket: Ticket, resolution: str, cause_code: CauseCode | None) -> None:
    errors: dict[str, str] = {}
    if resolution not in Resolution.values:
        errors["resolution"] = _("Choose how the ticket was resolved.")
    if ticket.type == TicketType.INCIDENT and cause_code is None:
        errors["cause_code"] = _("An incident needs a cause code.")
    if resolution == Resolution.PROBLEM and not ticket.problems.exists():
        errors["resolution"] = _("Link the ticket to its problem record first.")
    if errors:
        raise ValidationError(errors)


class TransitionError(ValidationError):
    """A status change the transition table does not allow (the API answers 409)."""


@transaction.atomic
def ticket_contract_change(
    *, ticket: Ticket, contract: SlaContract | None, actor: Any, now: datetime
) -> Ticket:
    ticket = _lock(ticket)
    before = _contract_code(ticket)
    ticket.sla_contract = contract
    ticket.save(update_fields=["sla_contract"])
    event_record(
        obj=ticket,
        kind="ticket.contract_changed",
        actor=actor,
        now=now,
        from_state=before,
        to_state=_contract_code(ticket),
    )
    return ticket_sla_refresh(ticket=ticket, now=now)


def customer_tickets_recontract(*, customer: Customer, actor: Any, now: datetime) -> int:
    """A customer's contract changed: every unclosed ticket moves to it."""
    changed = 0
    for ticket in (
        Ticket.objects.filter(customer=customer)
        .exclude(status=TicketStatus.CLOSED)
        .exclude(sla_contract_id=customer.sla_contract_id)
    ):
        ticket_contract_change(ticket=ticket, contract=customer.sla_contract, actor=actor, now=now)
        changed += 1
    return changed


# --- Extensions and escalations -------------------------------------------------


@transaction.atomic
def extension_request(
    *, ticket: Ticket, reason: str, appointment: datetime, actor: Any, now: datetime
) -> Extension:
    """Ask the IT manager to move the resolution due time to a follow-up
    appointment; at most one extension per ticket."""
    ticket = _lock(ticket)
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = _("Give the reason for the extension.")
    if appointment <= now:
        errors["appointment"] = _("The follow-up appointment must lie in the future.")
    elif ticket.resolution_due_at and appointment <= ticket.resolution_due_at:
        errors["appointment"] = _("The appointment must lie after the current due time.")
    if ticket.extensions.filter(status=RequestStatus.APPROVED).exists():
        errors["ticket"] = _("This ticket has had its extension already.")
    elif ticket.extensions.filter(status=RequestStatus.REQUESTED).exists():
        errors["ticket"] = _("An extension request is waiting for a decision.")
    if ticket.status not in ACTIVE_STATUSES and ticket.status != TicketStatus.WAITING_ON_CUSTOMER:
        errors["ticket"] = _("Only a ticket that is being worked on can be extended.")
    if errors:
        raise ValidationError(errors)
    extension = Extension.objects.create(
        ticket=ticket,
        reason=reason.strip(),
        appointment=appointment,
        requested_by=actor,
        requested_at=now,
    )
    event_record(
        obj=ticket,
        kind="ticket.extension_requested",
        actor=actor,
        now=now,
        reason=reason,
        data={"extension": extension.pk, "until": appointment.isoformat()},
    )
    return extension


@transaction.atomic
def extension_decide(
    *, extension: Extension, approve: bool, actor: Any, now: datetime, note: str = ""
) -> Extension:
    if not actor.has_perm("tickets.approve_extension"):
        raise PermissionDenied(_("Only the IT manager decides on extensions."))
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != RequestStatus.REQUESTED:
        raise ValidationError({"extension": _("This extension has been decided already.")})
    if not approve and not note.strip():
        raise ValidationError({"note": _("Say why the extension is refused.")})
    extension.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    extension.decided_by, extension.decided_at, extension.decision_note = actor, now, note
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    ticket = _lock(extension.ticket)
    if approve:
        ticket.extended_until = extension.appointment
        ticket.save(update_fields=["extended_until"])
    event_record(
        obj=ticket,
        kind="ticket.extension_approved" if approve else "ticket.extension_refused",
        actor=actor,
        now=now,
        reason=note or extension.reason,
        data={"extension": extension.pk, "until": extension.appointment.isoformat()},
    )
    ticket_sla_refresh(ticket=ticket, now=now)
    return extension


@transaction.atomic
def escalation_request(
    *,
    ticket: Ticket,
    reason: str,
    tried_together: bool,
    actor: Any,
    now: datetime,
    supplier: str = "",
) -> Escalation:
    """The assignee asks for functional escalation, confirming the problem was
    first tried together with a colleague."""
    ticket = _lock(ticket)
    errors: dict[str, str] = {}
    if ticket.assignee_id is None or getattr(actor, "pk", None) != ticket.assignee_id:
        errors["ticket"] = _("Only the assignee can ask for escalation.")
    if not tried_together:
        errors["tried_together"] = _("Try it together with a colleague first, then confirm.")
    if not reason.strip():
        errors["reason"] = _("Describe what was tried and why it needs escalation.")
    if ticket.status not in (TicketStatus.OPEN, TicketStatus.NEW):
        errors["ticket"] = _("Only an open ticket can be escalated.")
    if ticket.escalations.filter(status=RequestStatus.REQUESTED).exists():
        errors["ticket"] = _("An escalation request is waiting for a decision.")
    if errors:
        raise ValidationError(errors)
    escalation = Escalation.objects.create(
        ticket=ticket,
        reason=reason.strip(),
        tried_together=True,
        supplier=supplier.strip(),
        requested_by=actor,
        requested_at=now,
    )
    event_record(
        obj=ticket,
        kind="ticket.escalation_requested",
        actor=actor,
        now=now,
        reason=reason,
        data={"escalation": escalation.pk, "supplier": escalation.supplier},
    )
    return escalation


@transaction.atomic
def escalation_decide(
    *,
    escalation: Escalation,
    approve: bool,
    actor: Any,
    now: datetime,
    engineer: User | None = None,
    note: str = "",
) -> Escalation:
    """The head of department decides. On approval a senior engineer gets a
    subtask; the assignee keeps the ticket and the customer communication."""
    if not actor.has_perm("tickets.decide_escalation"):
        raise PermissionDenied(_("Only a head of department decides on escalations."))
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status != RequestStatus.REQUESTED:
        raise ValidationError({"escalation": _("This escalation has been decided already.")})
    if approve and (engineer is None or engineer.grade != Grade.SENIOR or not engineer.is_active):
        raise ValidationError({"engineer": _("Choose a senior engineer to take the subtask.")})
    if not approve and not note.strip():
        raise ValidationError({"note": _("Say why the escalation is refused.")})
    ticket = _lock(escalation.ticket)
    escalation.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    escalation.decided_by, escalation.decided_at, escalation.decision_note = actor, now, note
    if approve and engineer is not None:
        escalation.engineer = engineer
        escalation.task = task_create(
            title=_("Escalation %(number)s: %(subject)s")
            % {"number": ticket.number, "subject": ticket.subject},
            description=escalation.reason
            + (f"\n\n{_('Supplier')}: {escalation.supplier}" if escalation.supplier else ""),
            assignee=engineer,
            actor=actor,
            now=now,
            link=ticket,
        )
    escalation.save()
    event_record(
        obj=ticket,
        kind="ticket.escalation_approved" if approve else "ticket.escalation_refused",
        actor=actor,
        now=now,
        reason=note,
        data={
            "escalation": escalation.pk,
            "engineer": engineer.username if approve and engineer else "",
        },
    )
    if approve:
        ticket.escalated = True
        ticket.save(update_fields=["escalated"])
        _transition(
            ticket=ticket,
            to=TicketStatus.ESCALATED,
            actor=actor,
            now=now,
            reason=note or escalation.reason,
        )
    return escalation


def resolved_tickets_close(*, now: datetime, batch: int = 500) -> int:
    """Close tickets resolved more than TICKET_AUTO_CLOSE_DAYS ago without an
    answer from the customer."""
    horizon = now - timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)
    closed = 0
    ids = Ticket.objects.filter(status=TicketStatus.RESOLVED, resolved_at__lt=horizon).values_list(
        "id", flat=True
    )[:batch]
    for ticket_id in ids:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(skip_locked=True)
                .filter(pk=ticket_id, status=TicketStatus.RESOLVED)
                .first()
            )
            if ticket is None:
                continue
            _transition(
                ticket=ticket,
                to=TicketStatus.CLOSED,
                actor=None,
                now=now,
                reason="no answer from the customer within the confirmation period",
            )
            closed += 1
    return closed


@transaction.atomic
def ticket_confirm_resolution(*, ticket: Ticket, actor: Any, now: datetime) -> Ticket:
    """The customer confirms the resolution: the ticket closes."""
    ticket = _lock(ticket)
    if ticket.status != TicketStatus.RESOLVED:
        raise ValidationError({"ticket": _("Only a resolved ticket can be confirmed.")})
    return _transition(
        ticket=ticket, to=TicketStatus.CLOSED, actor=actor, now=now, reason="resolution confirmed"
    )


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, reason: str, actor: Any, now: datetime) -> Message:
    """The customer says the problem is not solved: their reason becomes a
    message and the ticket opens again (within the confirmation period)."""
    ticket = _lock(ticket)
    if ticket.status != TicketStatus.RESOLVED:
        raise ValidationError({"ticket": _("Only a resolved ticket can be reopened.")})
    if not reason.strip():
        raise ValidationError({"body": _("Say what is still wrong.")})
    return ticket_message_add(ticket=ticket, body=reason, public=True, actor=actor, now=now)
