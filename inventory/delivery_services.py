"""Writes for new customer environment deliveries: the structured request
(from a customer order or a sales hand-over), assigning the engineer, the
checklist steps with who and when, registering the machine in Network, the
customer's test rounds in the portal, issues during the delivery, the
confirmation letter and the hand-over that closes the lead time.

The order of the steps is the pure rule in delivery_checklist; the status
moves only through delivery_transition, which enforces DELIVERY_TRANSITIONS
and writes the event row."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import Customer, Grade, User
from accounts.roles import Role
from accounts.selectors import users_in_role
from events.services import event_record
from inventory import delivery_checklist as checklist
from inventory.models import (
    DELIVERY_TRANSITIONS,
    ITEM_TRANSITIONS,
    ConfigurationItem,
    Delivery,
    DeliveryIssue,
    DeliveryOrigin,
    DeliveryStatus,
    DeliveryStep,
    DeliveryStepName,
    Hypervisor,
    ItemKind,
    ItemStatus,
    ServerKind,
)
from tickets.models import Task, TaskStatus
from tickets.task_services import task_create, task_transition

CHANGE = "inventory.change_delivery"
ADD = "inventory.add_delivery"
# Steps may be recorded while the delivery is open.
OPEN_STATUSES = frozenset(
    {
        DeliveryStatus.REQUESTED,
        DeliveryStatus.IN_PROGRESS,
        DeliveryStatus.CUSTOMER_TEST,
        DeliveryStatus.ACCEPTED,
    }
)
PASSWORD_LABEL = "server password"  # noqa: S105  (the label, not a value)
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class _System:
    """The system itself closing an engineer's delivery task (on reassignment
    or when the delivery is done): the task service lets integrations do it."""

    is_integration = True
    pk = None

    def __str__(self) -> str:
        return "system"


_SYSTEM = _System()


# --- Reading helpers the services share ------------------------------------------


def steps_done(delivery: Delivery) -> set[str]:
    return set(DeliveryStep.objects.filter(delivery=delivery).values_list("step", flat=True))


def step_label(step: str) -> str:
    return str(DeliveryStepName(step).label)


def item_kind_for(delivery: Delivery) -> str:
    """The kind of configuration item this delivery's server becomes."""
    if delivery.server_kind == ServerKind.PHYSICAL:
        return ItemKind.PHYSICAL
    if delivery.hypervisor == Hypervisor.HYPERV:
        return ItemKind.VPS_HYPERV
    return ItemKind.VPS_VMWARE


def contact_addresses(delivery: Delivery) -> list[str]:
    """The e-mail addresses in the delivery's contacts (in order, once each);
    the customer's general address when the contacts name none."""
    found: list[str] = []
    for address in EMAIL.findall(delivery.contacts):
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    if not found and delivery.customer.email:
        found.append(delivery.customer.email)
    return found


def default_engineer() -> User | None:
    """Who gets a new request: a senior engineer. The head of department
    distributes the work and reassigns later, so a senior who is not a head
    goes first (alphabetically); a head only when no other senior exists."""
    seniors = users_in_role(Role.ENGINEER).filter(grade=Grade.SENIOR).order_by("username")
    return seniors.exclude(groups__name=Role.HEAD_OF_DEPARTMENT).first() or seniors.first()


def _lock(delivery: Delivery) -> Delivery:
    # Only the delivery row is locked (of=self): PostgreSQL refuses to lock
    # the nullable side of the outer joins to the engineer and the machine.
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("customer", "engineer", "item")
        .get(pk=delivery.pk)
    )


def _require_staff(actor: Any, perm: str = CHANGE) -> None:
    if not (getattr(actor, "is_staff", False) and actor.has_perm(perm)):
        raise PermissionDenied(_("You may not work on deliveries."))


def _require_open(delivery: Delivery) -> None:
    if delivery.status not in OPEN_STATUSES:
        raise ValidationError(
            _("Delivery %(number)s is %(status)s.")
            % {"number": delivery.number, "status": delivery.get_status_display()}
        )


# --- Status ----------------------------------------------------------------------


def delivery_transition(
    *,
    delivery: Delivery,
    to: str,
    actor: Any,
    now: datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> Delivery:
    """The one place a delivery changes status. Call with the row locked (the
    services below do); writes the event row."""
    if to not in DELIVERY_TRANSITIONS.get(delivery.status, set()):
        raise ValidationError(
            {
                "status": _("A delivery that is %(from)s cannot become %(to)s.")
                % {
                    "from": DeliveryStatus(delivery.status).label,
                    "to": DeliveryStatus(to).label,
                }
            }
        )
    from_state = delivery.status
    delivery.status = to
    fields = ["status"]
    if to == DeliveryStatus.DELIVERED:
        delivery.delivered_at = now
        fields.append("delivered_at")
    delivery.save(update_fields=fields)
    event_record(
        obj=delivery,
        kind="delivery.status_changed",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
        reason=reason,
        data=data,
    )
    return delivery


# --- Request and assignment -----------------------------------------------------


def _request_errors(
    *,
    customer: Customer | None,
    origin: str,
    order_reference: str,
    server_kind: str,
    hypervisor: str,
    os_name: str,
    contacts: str,
    wanted_on: date | None,
    today: date,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if customer is None or not customer.active:
        errors["customer"] = _("Choose an active customer.")
    if origin not in DeliveryOrigin.values:
        errors["origin"] = _("Choose a customer order or a sales hand-over.")
    elif origin == DeliveryOrigin.ORDER and not order_reference.strip():
        errors["order_reference"] = _("A customer order needs its order reference.")
    if server_kind not in ServerKind.values:
        errors["server_kind"] = _("Choose a physical or a virtual server.")
    elif server_kind == ServerKind.VIRTUAL and hypervisor not in (
        Hypervisor.HYPERV,
        Hypervisor.VMWARE,
    ):
        errors["hypervisor"] = _("Choose the hypervisor of the virtual server.")
    elif server_kind == ServerKind.PHYSICAL and hypervisor:
        errors["hypervisor"] = _("A physical server has no hypervisor.")
    if not os_name.strip():
        errors["os_name"] = _("Name the operating system.")
    if not contacts.strip():
        errors["contacts"] = _("Name the customer's contacts for this delivery.")
    if wanted_on is None:
        errors["wanted_on"] = _("Give the date the customer wants the environment.")
    elif wanted_on < today:
        errors["wanted_on"] = _("The wanted date is in the past.")
    return errors


def _task_description(delivery: Delivery) -> str:
    lines = [
        f"{_('Customer')}: {delivery.customer}",
        f"{_('Origin')}: {delivery.get_origin_display()}"
        + (f" ({delivery.order_reference})" if delivery.order_reference else ""),
        f"{_('Server')}: {delivery.get_server_kind_display()}"
        + (f" ({delivery.get_hypervisor_display()})" if delivery.hypervisor else ""),
        f"{_('Operating system')}: {delivery.os_name}",
        f"{_('Webserver')}: {delivery.webserver or '-'}",
        f"{_('Database')}: {delivery.database or '-'}",
        f"{_('Firewall')}: {delivery.firewall or '-'}",
        f"{_('Wanted on')}: {delivery.wanted_on.isoformat()}",
        f"{_('Contacts')}:\n{delivery.contacts}",
    ]
    if delivery.notes:
        lines.append(f"{_('Notes')}:\n{delivery.notes}")
    return "\n".join(lines)


def _task_for(delivery: Delivery, engineer: User, actor: Any, now: datetime) -> Task:
    return task_create(
        title=_("Deliver %(number)s: %(server)s for %(customer)s")
        % {
            "number": delivery.number,
            "server": server_label(delivery),
            "customer": delivery.customer,
        },
        description=_task_description(delivery),
        assignee=engineer,
        actor=actor,
        now=now,
        due_date=delivery.wanted_on,
        link=delivery,
    )


def server_label(delivery: Delivery) -> str:
    if delivery.server_kind == ServerKind.PHYSICAL:
        return _("physical server")
    return _("virtual server (%(hypervisor)s)") % {"hypervisor": delivery.get_hypervisor_display()}


def _close_tasks(delivery: Delivery, now: datetime, remark: str) -> None:
    """Close the open tasks of this delivery (the engineer's task box)."""
    tasks = Task.objects.filter(
        link_type=ContentType.objects.get_for_model(Delivery),
        link_id=delivery.pk,
        status=TaskStatus.OPEN,
    )
    for task in tasks:
        task_transition(task=task, to=TaskStatus.CLOSED, actor=_SYSTEM, now=now, remark=remark)


@transaction.atomic
def delivery_request(
    *,
    customer: Customer | None,
    origin: str,
    requested_by: User,
    server_kind: str,
    hypervisor: str,
    os_name: str,
    webserver: str = "",
    database: str = "",
    firewall: str = "",
    contacts: str,
    wanted_on: date | None,
    order_reference: str = "",
    notes: str = "",
    now: datetime,
) -> Delivery:
    """Register a delivery request, structured so the engineer knows exactly
    what to deliver, and put it in a senior engineer's task box."""
    _require_staff(requested_by, ADD)
    hypervisor = hypervisor or ""
    errors = _request_errors(
        customer=customer,
        origin=origin,
        order_reference=order_reference,
        server_kind=server_kind,
        hypervisor=hypervisor,
        os_name=os_name,
        contacts=contacts,
        wanted_on=wanted_on,
        today=timezone.localdate(now),
    )
    if errors:
        raise ValidationError(errors)
    assert customer is not None and wanted_on is not None
    delivery = Delivery.objects.create(
        customer=customer,
        origin=origin,
        order_reference=order_reference.strip(),
        requested_by=requested_by,
        server_kind=server_kind,
        hypervisor=hypervisor,
        os_name=os_name.strip(),
        webserver=webserver.strip(),
        database=database.strip(),
        firewall=firewall.strip(),
        contacts=contacts.strip(),
        wanted_on=wanted_on,
        notes=notes.strip(),
        engineer=default_engineer(),
        requested_at=now,
    )
    delivery.number = f"D-{delivery.pk:06d}"
    delivery.save(update_fields=["number"])
    event_record(
        obj=delivery,
        kind="delivery.requested",
        actor=requested_by,
        now=now,
        to_state=DeliveryStatus.REQUESTED,
        data={
            "customer": customer.number,
            "origin": origin,
            "server_kind": server_kind,
            "hypervisor": hypervisor,
            "wanted_on": wanted_on.isoformat(),
            "engineer": delivery.engineer.username if delivery.engineer else None,
        },
    )
    if delivery.engineer is not None:
        _task_for(delivery, delivery.engineer, requested_by, now)
    return delivery


@transaction.atomic
def delivery_assign(*, delivery: Delivery, engineer: User, actor: User, now: datetime) -> Delivery:
    """Give the delivery to another engineer: their task box gets the task,
    the previous engineer's open task is closed."""
    _require_staff(actor)
    delivery = _lock(delivery)
    _require_open(delivery)
    if not (
        engineer.is_active and engineer.is_staff and engineer.groups.filter(name=Role.ENGINEER)
    ):
        raise ValidationError({"engineer": _("Deliveries go to active engineers only.")})
    if delivery.engineer_id == engineer.pk:
        return delivery
    previous = delivery.engineer
    _close_tasks(delivery, now, _("Reassigned to %(name)s.") % {"name": engineer.display_name()})
    delivery.engineer = engineer
    delivery.save(update_fields=["engineer"])
    event_record(
        obj=delivery,
        kind="delivery.assigned",
        actor=actor,
        now=now,
        data={"from": previous.username if previous else None, "to": engineer.username},
    )
    _task_for(delivery, engineer, actor, now)
    return delivery


# --- Steps ------------------------------------------------------------------------


def _step_write(
    *, delivery: Delivery, step: str, actor: User, now: datetime, note: str = ""
) -> DeliveryStep:
    """Record `step` if the checklist allows it now; the delivery is locked."""
    _require_open(delivery)
    if step not in checklist.ALL_STEPS:
        raise ValidationError({"step": _("Unknown step.")})
    if step not in checklist.applicable_steps(delivery.server_kind):
        raise ValidationError(
            {
                "step": _("“%(step)s” is not a step of a %(kind)s delivery.")
                % {"step": step_label(step), "kind": delivery.get_server_kind_display()}
            }
        )
    done = steps_done(delivery)
    if step in done:
        raise ValidationError(
            {"step": _("“%(step)s” is done already.") % {"step": step_label(step)}}
        )
    missing = checklist.missing_before(delivery.server_kind, step, done)
    if missing:
        raise ValidationError(
            {"step": _("First: %(steps)s.") % {"steps": ", ".join(step_label(s) for s in missing)}}
        )
    recorded = DeliveryStep.objects.create(
        delivery=delivery, step=step, done_by=actor, done_at=now, note=note.strip()
    )
    event_record(
        obj=delivery,
        kind="delivery.step_recorded",
        actor=actor,
        now=now,
        reason=note.strip(),
        data={"step": step},
    )
    return recorded


@transaction.atomic
def delivery_step_record(
    *, delivery: Delivery, step: str, actor: User, now: datetime, note: str = ""
) -> DeliveryStep:
    """An engineer ticks off a step (who and when are recorded). The first
    step starts the delivery; the customer account hands it to the customer
    for testing. Registration needs the machine linked (delivery_machine_register);
    installing the OS writes it on the machine."""
    _require_staff(actor)
    delivery = _lock(delivery)
    if checklist.is_customer_step(step):
        raise ValidationError(
            {"step": _("The customer records their test by accepting in the portal.")}
        )
    if step == DeliveryStepName.CONFIRMATION_SENT:
        raise ValidationError({"step": _("Send the confirmation letter to record this step.")})
    if step == DeliveryStepName.HANDED_OVER:
        raise ValidationError({"step": _("Deliver the environment to record this step.")})
    if step == DeliveryStepName.REGISTERED and delivery.item_id is None:
        raise ValidationError({"step": _("Register the machine in Network first.")})
    recorded = _step_write(delivery=delivery, step=step, actor=actor, now=now, note=note)
    if step == DeliveryStepName.OS_INSTALLED and delivery.item is not None:
        _machine_os_set(delivery, actor, now)
    if delivery.status == DeliveryStatus.REQUESTED:
        delivery_transition(delivery=delivery, to=DeliveryStatus.IN_PROGRESS, actor=actor, now=now)
    if step == DeliveryStepName.CUSTOMER_ACCOUNT:
        delivery_transition(
            delivery=delivery, to=DeliveryStatus.CUSTOMER_TEST, actor=actor, now=now
        )
    return recorded


def _machine_os_set(delivery: Delivery, actor: User, now: datetime) -> None:
    """The OS is on the machine: Network says so, and an item still in stock
    counts as installed from now on."""
    from inventory.item_services import item_update

    item = delivery.item
    assert item is not None
    changes: dict[str, Any] = {}
    if item.os_name != delivery.os_name:
        changes["os_name"] = delivery.os_name
    if ItemStatus.INSTALLED in ITEM_TRANSITIONS.get(item.status, set()):
        changes["status"] = ItemStatus.INSTALLED
    if changes:
        delivery.item = item_update(item=item, actor=actor, now=now, **changes)


def _machine_in_production(delivery: Delivery, actor: User, now: datetime) -> None:
    from inventory.item_services import item_update

    item = delivery.item
    if item is not None and ItemStatus.IN_PRODUCTION in ITEM_TRANSITIONS.get(item.status, set()):
        delivery.item = item_update(
            item=item, actor=actor, now=now, status=ItemStatus.IN_PRODUCTION
        )


def _machine_check(delivery: Delivery, item: ConfigurationItem) -> None:
    if item.customer_id not in (None, delivery.customer_id):
        raise ValidationError({"item": _("This machine belongs to another customer.")})
    if item.kind != item_kind_for(delivery):
        raise ValidationError(
            {
                "item": _("This machine is a %(kind)s; the delivery is a %(server)s.")
                % {"kind": item.get_kind_display(), "server": server_label(delivery)}
            }
        )
    if item.status == ItemStatus.DECOMMISSIONED:
        raise ValidationError({"item": _("This machine is decommissioned.")})
    other = item.deliveries.exclude(pk=delivery.pk).exclude(status=DeliveryStatus.CANCELLED)
    if other.exists():
        raise ValidationError({"item": _("This machine belongs to another delivery.")})


@sensitive_variables("password")
@transaction.atomic
def delivery_machine_register(
    *,
    delivery: Delivery,
    actor: User,
    now: datetime,
    item: ConfigurationItem | None = None,
    password: str = "",
    note: str = "",
    **fields: Any,
) -> Delivery:
    """Register the server in Network and record the "registered" step: link
    a machine already there (a server received into stock has its serial
    number) or create it from `fields` (hostname, serial_number,
    machine_type, location, rack, ...). Either way it becomes the customer's.
    The server's password, when given, is stored encrypted as the item's
    secret "server password" (never in the delivery, its events or documents)."""
    from inventory.item_services import item_create, item_update, secret_store

    _require_staff(actor)
    delivery = _lock(delivery)
    _require_open(delivery)
    if delivery.item_id is not None:
        raise ValidationError({"item": _("The machine of this delivery is registered already.")})
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    if item is not None:
        _machine_check(delivery, item)
        changes = dict(fields)
        if item.customer_id is None:
            changes["customer"] = delivery.customer
        if changes:
            item = item_update(item=item, actor=actor, now=now, **changes)
    else:
        if not (fields.get("hostname") or fields.get("serial_number")):
            raise ValidationError(
                {"hostname": _("A new machine needs a hostname or a serial number.")}
            )
        item = item_create(
            actor=actor,
            now=now,
            kind=item_kind_for(delivery),
            customer=delivery.customer,
            **fields,
        )
    if password:
        secret_store(item=item, label=PASSWORD_LABEL, value=password, actor=actor, now=now)
    delivery.item = item
    delivery.save(update_fields=["item"])
    event_record(
        obj=delivery,
        kind="delivery.machine_linked",
        actor=actor,
        now=now,
        data={"item": item.reference},
    )
    delivery_step_record(
        delivery=delivery, step=DeliveryStepName.REGISTERED, actor=actor, now=now, note=note
    )
    delivery.refresh_from_db()
    return delivery


# --- The customer's test ----------------------------------------------------------


def _customer_lock(delivery: Delivery, actor: Any) -> Delivery:
    if getattr(actor, "customer_id", None) is None or actor.customer_id != delivery.customer_id:
        raise PermissionDenied(_("Only the customer's own users test and accept."))
    delivery = _lock(delivery)
    if delivery.status != DeliveryStatus.CUSTOMER_TEST:
        raise ValidationError(_("This environment is not waiting for your test."))
    return delivery


@transaction.atomic
def delivery_customer_accept(*, delivery: Delivery, actor: User, now: datetime) -> Delivery:
    """The customer tested the environment and accepts it (in the portal)."""
    delivery = _customer_lock(delivery, actor)
    delivery.customer_test_rounds += 1
    delivery.accepted_by = actor
    delivery.accepted_at = now
    delivery.save(update_fields=["customer_test_rounds", "accepted_by", "accepted_at"])
    _step_write(delivery=delivery, step=DeliveryStepName.CUSTOMER_TEST, actor=actor, now=now)
    delivery_transition(delivery=delivery, to=DeliveryStatus.ACCEPTED, actor=actor, now=now)
    event_record(
        obj=delivery,
        kind="delivery.customer_accepted",
        actor=actor,
        now=now,
        data={"round": delivery.customer_test_rounds},
    )
    return delivery


@transaction.atomic
def delivery_customer_reject(
    *, delivery: Delivery, actor: User, now: datetime, remarks: str
) -> Delivery:
    """The customer found a problem in the test: the delivery goes back to
    the engineer with the remarks; the round counts."""
    if not remarks.strip():
        raise ValidationError({"remarks": _("Tell us what is not right.")})
    delivery = _customer_lock(delivery, actor)
    delivery.customer_test_rounds += 1
    delivery.save(update_fields=["customer_test_rounds"])
    delivery_transition(
        delivery=delivery,
        to=DeliveryStatus.IN_PROGRESS,
        actor=actor,
        now=now,
        reason=remarks.strip(),
    )
    event_record(
        obj=delivery,
        kind="delivery.customer_rejected",
        actor=actor,
        now=now,
        reason=remarks.strip(),
        data={"round": delivery.customer_test_rounds},
    )
    return delivery


@transaction.atomic
def delivery_retest(*, delivery: Delivery, actor: User, now: datetime, note: str = "") -> Delivery:
    """After fixing what the customer reported, hand the environment to the
    customer for another test round."""
    _require_staff(actor)
    delivery = _lock(delivery)
    if delivery.status != DeliveryStatus.IN_PROGRESS:
        raise ValidationError(_("Only a delivery in progress goes back to the customer."))
    if DeliveryStepName.CUSTOMER_ACCOUNT not in steps_done(delivery):
        raise ValidationError(_("Create the customer account first."))
    return delivery_transition(
        delivery=delivery, to=DeliveryStatus.CUSTOMER_TEST, actor=actor, now=now, reason=note
    )


# --- Issues, confirmation, completion, cancellation ---------------------------------


@transaction.atomic
def delivery_issue_record(
    *, delivery: Delivery, description: str, actor: User, now: datetime
) -> DeliveryIssue:
    """Something that went wrong during the delivery (counted as a KPI)."""
    _require_staff(actor)
    delivery = _lock(delivery)
    if not description.strip():
        raise ValidationError({"description": _("Describe what went wrong.")})
    issue = DeliveryIssue.objects.create(
        delivery=delivery, description=description.strip(), recorded_by=actor, recorded_at=now
    )
    event_record(
        obj=delivery,
        kind="delivery.issue_recorded",
        actor=actor,
        now=now,
        reason=description.strip()[:500],
    )
    return issue


def _missing_error(delivery: Delivery, step: str) -> ValidationError:
    missing = checklist.missing_before(delivery.server_kind, step, steps_done(delivery))
    return ValidationError(
        _("First: %(steps)s.") % {"steps": ", ".join(step_label(s) for s in missing)}
    )


@transaction.atomic
def delivery_confirm(*, delivery: Delivery, actor: User, now: datetime) -> Delivery:
    """Generate the confirmation letter from Network data, mail it to the
    customer's contacts (through the event's notifier) and record the step."""
    from inventory.delivery_documents import confirmation_letter

    _require_staff(actor)
    delivery = _lock(delivery)
    _require_open(delivery)
    step = DeliveryStepName.CONFIRMATION_SENT
    if not checklist.may_record(delivery.server_kind, step, steps_done(delivery)):
        if step in steps_done(delivery):
            raise ValidationError(_("The confirmation letter was sent already."))
        raise _missing_error(delivery, step)
    recipients = contact_addresses(delivery)
    if not recipients:
        raise ValidationError(
            _("No address to send the letter to: add an e-mail address to the contacts.")
        )
    letter = confirmation_letter(delivery)
    _step_write(
        delivery=delivery,
        step=step,
        actor=actor,
        now=now,
        note=_("Sent to %(to)s.") % {"to": ", ".join(recipients)},
    )
    event_record(
        obj=delivery,
        kind="delivery.confirmed",
        actor=actor,
        now=now,
        data={"recipients": recipients, "letter": letter},
    )
    return delivery


@transaction.atomic
def delivery_complete(
    *, delivery: Delivery, actor: User, now: datetime, note: str = ""
) -> Delivery:
    """Hand over: every applicable step done → delivered; the lead time from
    request to delivery is fixed by delivered_at."""
    _require_staff(actor)
    delivery = _lock(delivery)
    _require_open(delivery)
    step = DeliveryStepName.HANDED_OVER
    if not checklist.may_record(delivery.server_kind, step, steps_done(delivery)):
        raise _missing_error(delivery, step)
    _step_write(delivery=delivery, step=step, actor=actor, now=now, note=note)
    _machine_in_production(delivery, actor, now)
    delivery_transition(
        delivery=delivery,
        to=DeliveryStatus.DELIVERED,
        actor=actor,
        now=now,
        data={"lead_time_seconds": int((now - delivery.requested_at).total_seconds())},
    )
    _close_tasks(delivery, now, _("Delivered."))
    return delivery


@transaction.atomic
def delivery_cancel(*, delivery: Delivery, actor: User, now: datetime, reason: str) -> Delivery:
    """Cancel a request that will not be delivered (before the customer test)."""
    _require_staff(actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the delivery is cancelled.")})
    delivery = _lock(delivery)
    delivery_transition(
        delivery=delivery, to=DeliveryStatus.CANCELLED, actor=actor, now=now, reason=reason.strip()
    )
    _close_tasks(delivery, now, _("Cancelled."))
    return delivery
