"""One object of every kind, for each of the two customers, built through the
services: the data the tenant-isolation probe fills URL patterns with.

Customer 2000 (Korenschoof) is the foreign company: every text value of its
objects carries "korenschoof" (or is a public number), so a leak shows up as
one of `Company.markers` in a response. Customer 1000 (Hoogendijk) is the
customer1 user's own company and gives the positive controls. Objects that
belong to no customer (products, stock counts, CAB meetings, report tables)
are shared and appear under the same key for both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Customer, User
from backups.models import BackupCheck, Handling, ResponsibilityGroup
from backups.services import backup_checks_create, backup_run_report, check_line_handle
from changes.cab import cab_meeting_prepare
from changes.services import change_submit
from inventory.delivery_services import (
    delivery_machine_register,
    delivery_request,
    delivery_step_record,
)
from inventory.item_services import ip_address_add, item_create, secret_store, software_set
from inventory.models import DeliveryStepName, ItemStatus, Location, MovementKind, Supplier
from inventory.stock_services import (
    product_save,
    purchase_order_create,
    stock_count_create,
    stock_move,
)
from inventory.update_services import update_create, update_research, update_schedule
from reports.kpis import TABLES
from tests.backups.factories import make_job
from tests.base import Personas, make_personas
from tickets.channel_services import call_card_create
from tickets.kb_services import article_create, article_link, problem_create
from tickets.services import ticket_create, ticket_message_add
from tickets.task_services import task_create

# Tuesday 10 March 2026, 10:00 in Amsterdam: after the 09:00 backup check.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
# Thursday 12 March 2026, 22:00 in Amsterdam: the update appointments.
APPOINTMENT = datetime(2026, 3, 12, 21, 0, tzinfo=UTC)
NO = {"multiple_users": False, "dependencies": False, "unsupported": False, "investment": False}
S = DeliveryStepName


@dataclass
class Company:
    slug: str  # lower case, in every text value of the company's objects
    customer: Customer
    user: User
    # World key (the object kind) -> the public reference URLs use for it.
    refs: dict[str, str] = field(default_factory=dict)
    # Values that identify this company's objects; none may reach another company.
    markers: list[str] = field(default_factory=list)
    # What a page shows of an object where it does not show the reference.
    shown: dict[str, str] = field(default_factory=dict)

    def keep(self, key: str, ref: object, *markers: object) -> None:
        self.refs[key] = str(ref)
        self.markers.extend(str(marker) for marker in markers if marker)


@dataclass
class World:
    personas: Personas
    own: Company  # customer 1000, customer1's company
    foreign: Company  # customer 2000, whose objects customer1 must never reach


def _upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def _tickets(p: Personas, c: Company, slug: str, user: User) -> None:
    ticket = ticket_create(
        customer=c.customer,
        subject=f"Mail server of {slug} rejects logins",
        message=f"Since this morning nobody at {slug} can log in.",
        type="incident",
        channel="portal",
        actor=user,
        now=NOW,
        attachments=[_upload(f"{slug}-smtp.log", f"421 {slug} smtp down\n")],
    )
    reply = ticket_message_add(
        ticket=ticket,
        body=f"We restarted the {slug} relay.",
        public=True,
        actor=p.jr,
        now=NOW + timedelta(minutes=5),
        attachments=[_upload(f"{slug}-relay.txt", f"relay {slug} restarted\n")],
    )
    note = ticket_message_add(
        ticket=ticket,
        body=f"Internal: {slug} relay password rotated.",
        public=False,
        actor=p.jr,
        now=NOW + timedelta(minutes=6),
        attachments=[_upload(f"{slug}-internal.txt", f"internal {slug}\n")],
    )
    c.keep("ticket", ticket.number, ticket.number, ticket.subject)
    c.shown["messages"] = reply.body
    c.keep("attachment", reply.attachments.get().public_id, f"{slug}-relay.txt")
    c.keep("internal_attachment", note.attachments.get().public_id, f"{slug}-internal.txt")
    c.markers.append(f"{slug}-smtp.log")
    task = task_create(
        title=f"Call {slug} about the relay",
        assignee=p.jr,
        actor=p.sr,
        now=NOW,
        link=ticket,
    )
    c.keep("task", task.public_id, task.public_id, task.title)
    card = call_card_create(
        phone=f"+31 10 555 {c.customer.number}",
        summary=f"{slug}: VPN is down",
        received_at=NOW,
        actor=p.jr,
        now=NOW,
        customer_number=c.customer.number,
        caller=f"Piet of {slug}",
    )
    c.keep("call_card", card.public_id, card.public_id, card.summary)
    article = article_create(
        data={
            "title": f"{slug} relay rejects logins",
            "symptom": f"{slug} users cannot log in",
            "cause": "Expired relay password",
            "solution": "Rotate the relay password",
        },
        actor=p.sr,
        now=NOW,
    )
    article_link(article=article, ticket=ticket, actor=p.jr, now=NOW)
    c.keep("article", article.public_id, article.public_id, article.title)
    problem = problem_create(
        title=f"{slug} relay keeps failing",
        description=f"Recurring at {slug}.",
        actor=p.sr,
        now=NOW,
        incidents=[ticket],
    )
    c.keep("problem", problem.number, problem.number, problem.title)


def _change(p: Personas, c: Company, slug: str) -> None:
    change = change_submit(
        subject=f"Move the {slug} shop to new hardware",
        message=f"The {slug} shop outgrew its server.",
        impact="medium",
        urgency="low",
        answers={**NO, "dependencies": True},
        justifications={"dependencies": f"The {slug} shop depends on it"},
        actor=p.jr,
        now=NOW,
        customer=c.customer,
    )
    c.keep("change", change.number, change.number, change.subject)


def _backups(p: Personas, c: Company, slug: str) -> None:
    group = ResponsibilityGroup.objects.create(
        code=f"grp-{c.customer.number}", name=f"Group {c.customer.number}", responsible=p.sr
    )
    job = make_job(
        p,
        group,
        f"{slug}-db-mysql",
        customer=c.customer,
        hostname=f"db.{slug}.example",
    )
    backup_run_report(
        job=job,
        status="failed",
        started_at=NOW - timedelta(hours=8),
        now=NOW,
        message=f"{slug} dump failed",
    )
    backup_checks_create(now=NOW)
    check = BackupCheck.objects.get(group=group)
    line = check.lines.get(job=job)
    line = check_line_handle(
        line=line,
        handling=Handling.INCIDENT,
        actor=p.sr,
        now=NOW + timedelta(minutes=30),
        reason=f"{slug} dump failed twice",
        description=f"The {slug} dump fails on a locked table.",
    )
    assert line.problem is not None
    c.keep("backup_job", job.reference, job.reference, job.hostname)
    c.shown["backup_job"] = job.hostname
    c.keep("backup_check", check.pk)
    c.keep("check_line", line.pk)
    c.keep("backup_problem", line.problem.number, line.problem.number)


def _machine(p: Personas, c: Company, slug: str, address: str) -> None:
    item = item_create(
        actor=p.sr,
        now=NOW - timedelta(days=30),
        hostname=f"app.{slug}.example",
        serial_number=f"SN-{slug.upper()}-01",
        kind="vps_vmware",
        customer=c.customer,
        location=Location.objects.get(code="ams1"),
        os_name="Debian",
        os_version="12",
        status=ItemStatus.IN_PRODUCTION,
        notes=f"Internal: {slug} asked for a discount",
    )
    ip_address_add(item=item, address=address, actor=p.sr, now=NOW)
    software_set(item=item, name=f"{slug}-erp", version="1.0", actor=p.sr, now=NOW)
    secret = secret_store(
        item=item,
        label=f"{slug} vault key",
        value=f"{slug}-S3cret-value-0451",
        actor=p.sr,
        now=NOW,
    )
    c.keep("item", item.hostname, item.hostname, item.serial_number, address, f"{slug}-erp")
    c.keep("secret", secret.public_id, secret.public_id, secret.label, f"{slug}-S3cret-value-0451")
    update = update_create(
        item=item, software=f"{slug}-erp", new_version="1.1", actor=p.sr, now=NOW
    )
    update = update_research(
        update=update,
        impact=f"Fixes the {slug} invoice export.",
        applies=True,
        causes_downtime=False,
        downtime_minutes=None,
        customer_wants_it=True,
        workaround="",
        one_node_at_a_time=False,
        rollback_plan="Reinstall 1.0.",
        actor=p.sr,
        now=NOW,
    )
    update = update_schedule(
        update=update,
        appointment_at=APPOINTMENT,
        test_plan=f"Export a {slug} invoice on staging.",
        actor=p.sr,
        now=NOW,
    )
    c.keep("update", update.number, update.number)
    if update.change is not None:
        c.markers.append(str(update.change.number))


def _delivery(p: Personas, c: Company, slug: str, address: str) -> None:
    """A new VPS up to the customer account: waiting for the customer's test."""
    delivery = delivery_request(
        customer=c.customer,
        origin="handover",
        requested_by=p.sales,
        server_kind="virtual",
        hypervisor="vmware",
        os_name="Debian 12",
        webserver="nginx",
        contacts=f"IT desk <it@{slug}.example>",
        wanted_on=date(2026, 3, 31),
        notes=f"Quote for {slug}",
        now=NOW,
    )
    delivery_step_record(delivery=delivery, step=S.VPS_CREATED, actor=p.sr, now=NOW)
    delivery = delivery_machine_register(
        delivery=delivery,
        actor=p.sr,
        now=NOW,
        password=f"{slug}-Vps-Password-7781",
        hostname=f"vps.{slug}.example",
        machine_type="VMware VM, 4 vCPU",
        location=Location.objects.get(code="ams1"),
    )
    assert delivery.item is not None
    ip_address_add(item=delivery.item, address=address, actor=p.sr, now=NOW)
    for step in (S.OS_INSTALLED, S.SOFTWARE_INSTALLED, S.CONFIGURED, S.TESTED):
        delivery_step_record(delivery=delivery, step=step, actor=p.sr, now=NOW)
    delivery_step_record(delivery=delivery, step=S.CUSTOMER_ACCOUNT, actor=p.sr, now=NOW)
    c.keep(
        "delivery",
        delivery.number,
        delivery.number,
        f"vps.{slug}.example",
        f"{slug}-Vps-Password-7781",
        address,
    )


def _stock(p: Personas, world_companies: tuple[Company, Company]) -> None:
    """Stock is the company's own business; a purchase order may name a customer."""
    supplier = Supplier.objects.get_or_create(name="Dell Technologies")[0]
    product = product_save(
        actor=p.itm,
        now=NOW,
        sku="ssd-960",
        name="SSD 960 GB",
        kind="part",
        unit_price=Decimal("180.00"),
        reorder_level=0,
        supplier=supplier,
        active=True,
    )
    mls = Location.objects.get(code="mls")
    stock_move(
        product=product,
        location=mls,
        quantity=4,
        kind=MovementKind.COUNT,
        actor=p.itm,
        now=NOW,
        note="opening stock",
    )
    count = stock_count_create(
        location=mls, controller=p.sr, due_on=date(2026, 3, 20), actor=p.itm, now=NOW
    )
    for c in world_companies:
        slug = c.slug
        order = purchase_order_create(
            supplier=supplier,
            destination=Location.objects.get(code="ams1"),
            customer=c.customer,
            expected_on=date(2026, 3, 20),
            lines=[(product, 2, product.unit_price)],
            actor=p.sr,
            now=NOW,
            notes=f"For the {slug} shop",
        )
        c.keep("order", order.number, order.number)
        c.keep("order_line", order.lines.get().pk)
        c.keep("product", product.sku)
        c.keep("stock_count", count.pk)


def make_world() -> World:
    p = make_personas()
    own = Company("hoogendijk", p.customer, p.customer_user, markers=["Hoogendijk"])
    # The name of customer 2000 is "Korenschoof"; the probe matches it in any case.
    foreign = Company(
        "korenschoof", p.other_customer, p.other_customer_user, markers=["korenschoof"]
    )
    for company, addresses in (
        (foreign, ("185.52.224.40", "203.0.113.40")),
        (own, ("185.52.224.11", "203.0.113.11")),
    ):
        slug = company.slug
        company.keep("customer", company.customer.number)
        _tickets(p, company, slug, company.user)
        _change(p, company, slug)
        _backups(p, company, slug)
        _machine(p, company, slug, addresses[0])
        _delivery(p, company, slug, addresses[1])
    _stock(p, (foreign, own))
    meeting = cab_meeting_prepare(now=NOW)
    for company in (own, foreign):
        company.keep("cab_meeting", meeting.pk)
        company.keep("report_table", TABLES[0].code)
    return World(personas=p, own=own, foreign=foreign)
