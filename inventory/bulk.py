"""Bulk Network data for `seed_bulk`: machines with addresses and software, the machine
updates for software that is behind, deliveries of a few machines, and (inventory/bulk_stock.py)
a stock ledger with purchase orders.

Ratios (C = bulk customers): machines for every bulk customer without one yet, one or two each
(about 1.5 C), 85% of them servers, each with a public address (from the item id, so unique
everywhere) and half with a private one; two to four packages per server. Every live server
copy of software that is behind the newest release has an update (about 8% of the copies, as
software_release_register makes them), some taken further, some failed; 4% of the up-to-date
copies got there through a registered update. About 2% of the new servers came through a
delivery, and C/200 deliveries are still open. A later run makes machines (and their updates
and deliveries) only for customers that have none, so it adds no clashing hostnames, serial
numbers or addresses: those derive from the item's own id.

Everything is built as rows that satisfy the model constraints and written in bulk
(servicedesk.bulk); no services, no signals. Machine updates carry no change (the service
submits one when an update is researched): changes come from changes/bulk.py.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from ipaddress import IPv4Address
from itertools import pairwise
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from accounts.models import Customer, Grade, User
from inventory.bulk_stock import seed_stock
from inventory.delivery_checklist import applicable_steps
from inventory.models import (
    ConfigurationItem,
    Delivery,
    DeliveryIssue,
    DeliveryOrigin,
    DeliveryStatus,
    DeliveryStep,
    DeliveryStepName,
    Hypervisor,
    InstalledSoftware,
    IpAddress,
    ItemKind,
    ItemStatus,
    Location,
    MachineUpdate,
    ServerKind,
    SoftwareRelease,
    UpdateStatus,
)
from inventory.versions import is_behind
from servicedesk.bulk import (
    EventRow,
    content_type_id,
    event_row,
    events_insert,
    ids_take,
    objects_insert,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SERVERS = (ItemKind.PHYSICAL, ItemKind.VPS_HYPERV, ItemKind.VPS_VMWARE)
KIND_WEIGHTS = {
    ItemKind.VPS_VMWARE: 35,
    ItemKind.VPS_HYPERV: 25,
    ItemKind.PHYSICAL: 25,
    ItemKind.FIREWALL: 10,
    ItemKind.SWITCH: 5,
}
PREFIX = {
    ItemKind.PHYSICAL: "srv",
    ItemKind.VPS_HYPERV: "vps",
    ItemKind.VPS_VMWARE: "vm",
    ItemKind.FIREWALL: "fw",
    ItemKind.SWITCH: "sw",
}
MACHINE_TYPES = {
    ItemKind.PHYSICAL: ["Dell PowerEdge R650", "HPE ProLiant DL380 Gen10"],
    ItemKind.VPS_HYPERV: ["Hyper-V VM, 2 vCPU, 4 GB", "Hyper-V VM, 4 vCPU, 8 GB"],
    ItemKind.VPS_VMWARE: ["VMware VM, 4 vCPU, 8 GB", "VMware VM, 8 vCPU, 16 GB"],
    ItemKind.FIREWALL: ["Fortinet FortiGate 60F"],
    ItemKind.SWITCH: ["HPE Aruba 2930F 48G"],
}
UNIX = [("Ubuntu", "22.04 LTS"), ("Ubuntu", "24.04 LTS"), ("Debian", "12"), ("AlmaLinux", "9")]
WINDOWS = [("Windows Server", "2019"), ("Windows Server", "2022")]
DEVICE_OS = {ItemKind.FIREWALL: ("FortiOS", "7.4.4"), ItemKind.SWITCH: ("ArubaOS-Switch", "16.11")}
WINDOWS_SHARE = 0.25
STATUS_WEIGHTS = {
    ItemStatus.IN_PRODUCTION: 85,
    ItemStatus.INSTALLED: 10,
    ItemStatus.DECOMMISSIONED: 5,
}
PUBLIC_BASE = int(IPv4Address("185.64.0.0"))  # plus the item id: unique everywhere
PRIVATE_BASE = int(IPv4Address("10.0.0.0"))
# Installed versions, oldest first; the newest is the release unless one is registered.
SOFTWARE = {
    "nginx": ["1.24.0", "1.26.1", "1.26.2"],
    "Apache": ["2.4.57", "2.4.62"],
    "OpenSSL": ["3.0.2", "3.0.13", "3.0.15"],
    "MySQL": ["8.0.36", "8.0.40"],
    "PHP": ["8.1.29", "8.2.24", "8.3.12"],
}
BEHIND_SHARE = 0.08
DONE_SHARE = 0.04  # of the up-to-date copies: updated through a registered update
RELEASED = timedelta(days=21)  # the releases were registered this long before now
# Where a candidate's update got to: (status, steps after candidate, share).
UPDATE_PATH: list[str] = [
    UpdateStatus.RESEARCHED,
    UpdateStatus.SCHEDULED,
    UpdateStatus.APPROVED,
    UpdateStatus.TESTED,
    UpdateStatus.INSTALLED,
    UpdateStatus.VERIFIED,
    UpdateStatus.DONE,
]
UPDATE_OUTCOMES = {"candidate": 60, "researched": 12, "scheduled": 10, "approved": 5, "tested": 3}
UPDATE_OUTCOMES |= {"not_applicable": 6, "failed": 4}
HYPERVISOR: dict[str, str] = {
    ItemKind.VPS_HYPERV: Hypervisor.HYPERV,
    ItemKind.VPS_VMWARE: Hypervisor.VMWARE,
}
DELIVERED_SHARE = 0.02
OPEN_DELIVERIES_PER_CUSTOMER = 1 / 200


class Machine(NamedTuple):
    """What the backups need to know of a machine made by this run."""

    id: int
    hostname: str
    customer_id: int
    kind: str
    os_name: str
    status: str
    created_at: datetime


class InventorySeeded(NamedTuple):
    machines: list[Machine]
    counts: dict[str, int]


def seed_inventory(
    *,
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    now: datetime,
    years: float,
) -> InventorySeeded:
    counts: dict[str, int] = {}
    events: list[EventRow] = []
    items = _machines(rng, customers, engineers, now, years, counts, events)
    copies = _software(rng, items, now, counts)
    _updates(rng, items, copies, engineers, now, counts, events)
    _deliveries(rng, items, customers, engineers, now, counts, events)
    seed_stock(
        rng=rng,
        customers=customers,
        engineers=engineers,
        now=now,
        years=years,
        counts=counts,
        events=events,
    )
    counts["events"] = events_insert(events)
    machines = [
        Machine(
            item.pk,
            item.hostname or "",
            item.customer_id or 0,
            item.kind,
            item.os_name,
            item.status,
            item.created_at,
        )
        for item in items
    ]
    return InventorySeeded(machines, counts)


def _weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


# --- Machines ---------------------------------------------------------------------------


def _machines(
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    now: datetime,
    years: float,
    counts: dict[str, int],
    events: list[EventRow],
) -> list[ConfigurationItem]:
    """One or two machines for every customer that has none yet, created over the period
    but at least 90 days ago (so their backups cover the whole 60 nights)."""
    have = set(
        ConfigurationItem.objects.filter(customer__isnull=False)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    todo = [customer for customer in customers if customer.pk not in have]
    plan = [(customer, rng.choice((1, 2))) for customer in todo]
    ids = iter(ids_take(ConfigurationItem, sum(n for _c, n in plan)))
    locations = {loc.code: loc.pk for loc in Location.objects.all()}
    first, last = now - timedelta(days=365.25 * years), now - timedelta(days=90)
    items = []
    for customer, n in plan:
        kinds = [_weighted(rng, KIND_WEIGHTS) for _ in range(n)]
        paired = n == 2 and all(k in SERVERS for k in kinds) and rng.random() < 0.3
        windows = rng.random() < WINDOWS_SHARE
        for kind in kinds:
            pk = next(ids)
            code = rng.choices(["ams1", "ams2", "mls"], weights=[45, 40, 15])[0]
            os_name, os_version = DEVICE_OS.get(kind) or rng.choice(WINDOWS if windows else UNIX)
            created = _between(rng, first, max(first, last))
            racked = kind in (ItemKind.PHYSICAL, ItemKind.FIREWALL, ItemKind.SWITCH)
            items.append(
                ConfigurationItem(
                    pk=pk,
                    hostname=f"{PREFIX[kind]}{pk:06d}.c{customer.number}.example",
                    serial_number=f"BLK{pk:08d}" if racked else None,
                    kind=kind,
                    machine_type=rng.choice(MACHINE_TYPES[kind]),
                    customer_id=customer.pk,
                    location_id=locations[code],
                    rack=f"{code.upper()}-R{rng.randint(1, 30):02d}-U{rng.randint(1, 42)}"
                    if racked
                    else "",
                    os_name=os_name,
                    os_version=os_version,
                    status=_weighted(rng, STATUS_WEIGHTS),
                    redundancy_group=f"c{customer.number}-web" if paired else "",
                    created_at=created,
                    updated_at=created,
                )
            )
    objects_insert(ConfigurationItem, items)
    counts["machines"] = len(items)
    _addresses(rng, items, counts)
    item_type = content_type_id(ConfigurationItem)
    for item in items:
        events.append(
            event_row(
                content_type=item_type,
                object_id=item.pk,
                object_ref=item.hostname or "",
                kind="item.created",
                at=item.created_at,
                actor=rng.choice(engineers),
                to_state=item.status,
                data={"changes": {"hostname": [None, item.hostname], "kind": [None, item.kind]}},
            )
        )
    return items


def _addresses(rng: random.Random, items: list[ConfigurationItem], counts: dict[str, int]) -> None:
    """A public address for every machine but switches, a private one for half the servers;
    both derived from the item id, so unique everywhere (and per customer network)."""
    rows = []
    for item in items:
        if item.kind != ItemKind.SWITCH:
            rows.append((item.pk, str(IPv4Address(PUBLIC_BASE + item.pk)), False, 0))
        if item.kind in SERVERS and rng.random() < 0.5:
            address = str(IPv4Address(PRIVATE_BASE + item.pk))
            rows.append((item.pk, address, True, item.customer_id or 0))
    ids = ids_take(IpAddress, len(rows))
    objects_insert(
        IpAddress,
        [
            IpAddress(pk=pk, item_id=item, address=address, is_private=private, customer_key=key)
            for pk, (item, address, private, key) in zip(ids, rows, strict=True)
        ],
    )
    counts["addresses"] = len(rows)


def _releases(now: datetime) -> dict[str, SoftwareRelease]:
    """The newest known version of each piece of software: the registered one, or the
    newest of SOFTWARE registered now - RELEASED."""
    releases = {}
    for name, versions in SOFTWARE.items():
        release = SoftwareRelease.objects.filter(name__iexact=name).first()
        if release is None:
            release = SoftwareRelease(
                name=name,
                version=versions[-1],
                source=f"https://example.org/{name.lower()}/releases",
                registered_at=now - RELEASED,
            )
            SoftwareRelease.objects.bulk_create([release])
        releases[name] = release
    return releases


class Copy(NamedTuple):
    item: ConfigurationItem
    name: str
    version: str
    release: SoftwareRelease
    updated_from: str | None  # the version before a registered update, or None


def _software(
    rng: random.Random, items: list[ConfigurationItem], now: datetime, counts: dict[str, int]
) -> list[Copy]:
    """Two to four packages on every server; `behind` and `latest_version` as
    software_set stores them."""
    releases = _releases(now)
    copies = []
    for item in items:
        if item.kind not in SERVERS:
            continue
        names = ["OpenSSL", rng.choice(("nginx", "Apache"))]
        names += [name for name in ("MySQL", "PHP") if rng.random() < 0.5]
        for name in names:
            versions, release = SOFTWARE[name], releases[name]
            version, before = release.version, None
            if rng.random() < BEHIND_SHARE:
                version = rng.choice(versions[:-1])
            elif rng.random() < DONE_SHARE:
                before = rng.choice(versions[:-1])
            copies.append(Copy(item, name, version, release, before))
    ids = ids_take(InstalledSoftware, len(copies))
    objects_insert(
        InstalledSoftware,
        [
            InstalledSoftware(
                pk=pk,
                item_id=copy.item.pk,
                name=copy.name,
                version=copy.version,
                latest_version=copy.release.version,
                behind=is_behind(copy.version, copy.release.version),
            )
            for pk, copy in zip(ids, copies, strict=True)
        ],
    )
    counts["software"] = len(copies)
    return copies


# --- Machine updates --------------------------------------------------------------------


def _updates(
    rng: random.Random,
    items: list[ConfigurationItem],
    copies: list[Copy],
    engineers: Sequence[User],
    now: datetime,
    counts: dict[str, int],
    events: list[EventRow],
) -> None:
    """An update for every copy behind on a live machine (a candidate when the release was
    registered, some taken further) and a registered one for every copy updated before."""
    chosen = []
    for copy in copies:
        behind = is_behind(copy.version, copy.release.version)
        if copy.updated_from is not None:
            chosen.append((copy, "done"))
        elif behind and copy.item.status != ItemStatus.DECOMMISSIONED:
            chosen.append((copy, _weighted(rng, UPDATE_OUTCOMES)))
    ids = ids_take(MachineUpdate, len(chosen))
    update_type = content_type_id(MachineUpdate)
    updates = []
    for pk, (copy, outcome) in zip(ids, chosen, strict=True):
        # Candidates appear when the release is registered (at least RELEASED ago here, so
        # a registered update had time to finish).
        created = min(copy.release.registered_at, now - RELEASED)
        update = MachineUpdate(
            pk=pk,
            number=f"U-{pk:06d}",
            item_id=copy.item.pk,
            software=copy.name,
            current_version=copy.updated_from or copy.version,
            new_version=copy.release.version,
            source=copy.release.source,
            created_at=created,
            updated_at=created,
        )
        events.append(
            event_row(
                content_type=update_type,
                object_id=pk,
                object_ref=update.number or "",
                kind="update.candidate",
                at=created,
                to_state=UpdateStatus.CANDIDATE,
                data={"release": str(copy.release), "source": copy.release.source},
            )
        )
        _update_story(rng, update, copy.item, outcome, rng.choice(engineers), now, events)
        updates.append(update)
    objects_insert(MachineUpdate, updates)
    counts["machine updates"] = len(updates)


def _update_story(
    rng: random.Random,
    update: MachineUpdate,
    item: ConfigurationItem,
    outcome: str,
    engineer: User,
    now: datetime,
    events: list[EventRow],
) -> None:
    """Walk the update along UPDATE_PATH to `outcome`, a few days per step, setting each
    step's fields and writing its transition event; it stops early where the walk reaches
    `now`."""
    if outcome == UpdateStatus.CANDIDATE:
        return
    steps: list[str]
    if outcome == UpdateStatus.NOT_APPLICABLE:
        steps = [UpdateStatus.NOT_APPLICABLE]
    elif outcome == UpdateStatus.FAILED:
        last = rng.choice([UpdateStatus.APPROVED, UpdateStatus.TESTED, UpdateStatus.INSTALLED])
        steps = [*UPDATE_PATH[: UPDATE_PATH.index(last) + 1], UpdateStatus.FAILED]
    else:
        steps = UPDATE_PATH[: UPDATE_PATH.index(outcome) + 1]
    update.engineer = engineer
    update_type = content_type_id(MachineUpdate)
    at = update.created_at
    for step in steps:
        at += timedelta(hours=rng.uniform(2, 40))
        if step == UpdateStatus.INSTALLED and update.appointment_at:
            at = max(at, update.appointment_at)
        if at >= now:
            break
        _update_step(rng, update, item, step, at)
        events.append(
            event_row(
                content_type=update_type,
                object_id=update.pk,
                object_ref=update.number or "",
                kind="update.transition",
                at=at,
                actor=engineer,
                from_state=update.status,
                to_state=step,
            )
        )
        update.status, update.updated_at = step, at


def _update_step(
    rng: random.Random, update: MachineUpdate, item: ConfigurationItem, step: str, at: datetime
) -> None:
    if step == UpdateStatus.NOT_APPLICABLE:
        update.applies, update.impact = False, f"{update.software} is not exposed on this machine."
    elif step == UpdateStatus.RESEARCHED:
        update.applies, update.customer_wants_it = True, True
        update.causes_downtime = rng.random() < 0.4
        update.downtime_minutes = rng.choice((5, 10, 30)) if update.causes_downtime else None
        update.impact = f"Security fixes in {update.software} {update.new_version}."
        update.one_node_at_a_time = bool(item.redundancy_group)
    elif step == UpdateStatus.SCHEDULED:
        evening = _local((at + timedelta(days=rng.randint(1, 7))).astimezone(AMSTERDAM).date(), 22)
        update.appointment_at, update.customer_informed_before_at = evening, at
        update.test_plan = "Check the site and the logs after the restart."
    elif step == UpdateStatus.APPROVED:
        update.approved_at, update.approval_note = at, "approved in the portal"
    elif step == UpdateStatus.TESTED:
        update.test_result = "Tested on the staging copy: no problems."
    elif step == UpdateStatus.INSTALLED:
        update.installed_at = at
    elif step == UpdateStatus.VERIFIED:
        update.post_install_result = "Site and services respond; no errors in the logs."
    elif step == UpdateStatus.DONE:
        update.how_done, update.customer_informed_after_at = "Package upgrade, service reload.", at
    elif step == UpdateStatus.FAILED:
        update.test_result = update.test_result or "The service did not start after the upgrade."


# --- Deliveries -------------------------------------------------------------------------

DELIVERY_PATH: list[str] = [
    DeliveryStatus.REQUESTED,
    DeliveryStatus.IN_PROGRESS,
    DeliveryStatus.CUSTOMER_TEST,
    DeliveryStatus.ACCEPTED,
    DeliveryStatus.DELIVERED,
]
# The first checklist step not yet done in each open status (requested: none done).
STEPS_UNTIL: dict[str, str] = {
    DeliveryStatus.IN_PROGRESS: DeliveryStepName.TESTED,
    DeliveryStatus.CUSTOMER_TEST: DeliveryStepName.CUSTOMER_TEST,
    DeliveryStatus.ACCEPTED: DeliveryStepName.DOCUMENTED,
}


def _deliveries(
    rng: random.Random,
    items: list[ConfigurationItem],
    customers: Sequence[Customer],
    engineers: Sequence[User],
    now: datetime,
    counts: dict[str, int],
    events: list[EventRow],
) -> None:
    """The delivery of about 2% of the new servers (delivered, a week or three after the
    request, the machine registered on the way), and C/200 deliveries still open."""
    seniors = [e for e in engineers if e.grade == Grade.SENIOR] or list(engineers)
    specs: list[tuple[int, ConfigurationItem | None, str, datetime]] = []
    for machine in items:
        if machine.kind in SERVERS and rng.random() < DELIVERED_SHARE:
            requested = machine.created_at - timedelta(days=rng.uniform(3, 20))
            specs.append((machine.customer_id or 0, machine, DeliveryStatus.DELIVERED, requested))
    if items:  # open ones only when this run made machines: a re-run adds none
        for _ in range(max(1, round(len(customers) * OPEN_DELIVERIES_PER_CUSTOMER))):
            status = rng.choice(DELIVERY_PATH[:-1])
            requested = now - timedelta(days=rng.uniform(1, 30))
            specs.append((rng.choice(customers).pk, None, status, requested))
    ids = ids_take(Delivery, len(specs))
    deliveries, steps, issues = [], [], []
    for pk, (customer_id, item, status, requested) in zip(ids, specs, strict=True):
        item_kind = item.kind if item else rng.choice(SERVERS)
        kind = ServerKind.PHYSICAL if item_kind == ItemKind.PHYSICAL else ServerKind.VIRTUAL
        engineer = rng.choice(seniors)
        delivery = Delivery(
            pk=pk,
            number=f"D-{pk:06d}",
            customer_id=customer_id,
            origin=rng.choice((DeliveryOrigin.ORDER, DeliveryOrigin.HANDOVER)),
            requested_by=rng.choice(engineers),
            server_kind=kind,
            hypervisor=HYPERVISOR.get(item_kind, Hypervisor.NONE),
            os_name=item.os_name if item else rng.choice(UNIX)[0],
            webserver=rng.choice(("nginx", "Apache", "")),
            database=rng.choice(("MySQL 8", "")),
            contacts="IT contact, +31 10 123 45 67",
            wanted_on=(requested + timedelta(days=rng.randint(7, 28))).date(),
            engineer=engineer,
            item_id=item.pk if item else None,
            status=status,
            requested_at=requested,
        )
        if delivery.origin == DeliveryOrigin.ORDER:
            delivery.order_reference = f"SO-{pk:06d}"
        finished = (item.created_at + timedelta(days=rng.uniform(1, 8))) if item else now
        steps += _delivery_steps(rng, delivery, finished, engineer)
        if status == DeliveryStatus.DELIVERED and rng.random() < 0.15:
            issues.append((delivery, "The customer's DNS was not yet pointed at the server."))
        events += _delivery_events(delivery, engineer)
        deliveries.append(delivery)
    objects_insert(Delivery, deliveries)
    for step, pk in zip(steps, ids_take(DeliveryStep, len(steps)), strict=True):
        step.pk = pk
    objects_insert(DeliveryStep, steps)
    rows = [
        DeliveryIssue(
            pk=pk,
            delivery_id=d.pk,
            description=text,
            recorded_by=d.engineer,
            recorded_at=d.delivered_at or d.requested_at,
        )
        for pk, (d, text) in zip(ids_take(DeliveryIssue, len(issues)), issues, strict=True)
    ]
    objects_insert(DeliveryIssue, rows)
    counts["deliveries"] = len(deliveries)


def _delivery_steps(
    rng: random.Random, delivery: Delivery, finished: datetime, engineer: User
) -> list[DeliveryStep]:
    """The checklist up to the delivery's status, spread from the request to `finished`."""
    names = list(applicable_steps(delivery.server_kind))
    if delivery.status == DeliveryStatus.REQUESTED:
        names = []
    elif delivery.status != DeliveryStatus.DELIVERED:
        names = names[: names.index(STEPS_UNTIL[delivery.status])]
    span = finished - delivery.requested_at
    times = sorted(delivery.requested_at + span * rng.uniform(0.05, 0.95) for _ in names)
    if delivery.status == DeliveryStatus.DELIVERED:
        delivery.delivered_at = finished
        delivery.customer_test_rounds = 1 if rng.random() < 0.8 else 2
        delivery.accepted_at = times[names.index(DeliveryStepName.CUSTOMER_TEST)]
    elif delivery.status == DeliveryStatus.ACCEPTED:
        delivery.customer_test_rounds = 1
        delivery.accepted_at = times[-1] if times else delivery.requested_at
    return [
        DeliveryStep(delivery=delivery, step=name, done_by=engineer, done_at=at)
        for name, at in zip(names, times, strict=True)
    ]


def _delivery_events(delivery: Delivery, engineer: User) -> list[EventRow]:
    delivery_type = content_type_id(Delivery)
    ref = delivery.number or ""
    rows = [
        event_row(
            content_type=delivery_type,
            object_id=delivery.pk,
            object_ref=ref,
            kind="delivery.requested",
            at=delivery.requested_at,
            actor=delivery.requested_by,
            to_state=DeliveryStatus.REQUESTED,
        )
    ]
    reached = DELIVERY_PATH[: DELIVERY_PATH.index(delivery.status) + 1]
    end = delivery.delivered_at or delivery.accepted_at or delivery.requested_at
    for i, (before, after) in enumerate(pairwise(reached), start=1):
        at = delivery.requested_at + (end - delivery.requested_at) * i / len(reached)
        if after == DeliveryStatus.DELIVERED:
            at = end
        rows.append(
            event_row(
                content_type=delivery_type,
                object_id=delivery.pk,
                object_ref=ref,
                kind="delivery.status_changed",
                at=at,
                actor=engineer,
                from_state=before,
                to_state=after,
            )
        )
    return rows
