"""Demo deliveries for `loaddemo`: a physical server for 1000 in progress
(the OS is installed), a VMware VPS for 2000 waiting for the customer's
test, and a Hyper-V VPS for 1000 delivered last month after a second test
round. Built through the services, so steps, events and tasks are real."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.models import Customer, User
from inventory.delivery_services import (
    delivery_complete,
    delivery_confirm,
    delivery_customer_accept,
    delivery_customer_reject,
    delivery_issue_record,
    delivery_machine_register,
    delivery_request,
    delivery_retest,
    delivery_step_record,
)
from inventory.models import Delivery, DeliveryStepName, Location

S = DeliveryStepName


def _steps(delivery: Delivery, steps: list[str], actor: User, start: datetime) -> datetime:
    """Record `steps` one after the other, a few hours apart; returns the time after."""
    moment = start
    for step in steps:
        moment += timedelta(hours=5)
        delivery_step_record(delivery=delivery, step=step, actor=actor, now=moment)
    return moment


def _last_month(today: date) -> date:
    return today.replace(day=1) - timedelta(days=12)


def load_demo_deliveries(staff: dict[str, User], now: datetime) -> None:
    if Delivery.objects.exists():
        return
    today = timezone.localdate(now)
    hoogendijk = Customer.objects.get(number="1000")
    korenschoof = Customer.objects.get(number="2000")
    sr, head, sales = staff["sr"], staff["head"], staff["sales"]
    amsterdam = Location.objects.get(code="ams1")

    # 1. A physical server for 1000: ordered, delivered, unpacked, registered, OS installed.
    start = now - timedelta(days=9)
    physical = delivery_request(
        customer=hoogendijk,
        origin="handover",
        requested_by=sales,
        server_kind="physical",
        hypervisor="",
        os_name="Ubuntu 24.04 LTS",
        webserver="nginx",
        database="PostgreSQL 17",
        firewall="nftables",
        contacts="Kees Hoogendijk <kees@hoogendijk.example>, +31 10 555 0100\n"
        "Fleur Bakker (IT) <it@hoogendijk.example>",
        wanted_on=today + timedelta(days=12),
        order_reference="Quote Q-2291",
        notes="Second application server next to web01; same rack if possible.",
        now=start,
    )
    moment = _steps(physical, [S.ORDERED, S.DELIVERED_BY_SUPPLIER, S.UNPACKED], sr, start)
    delivery_machine_register(
        delivery=physical,
        actor=sr,
        now=moment + timedelta(hours=1),
        hostname="app03.hoogendijk.example",
        serial_number="CZJ3490KX2",
        machine_type="HPE ProLiant DL360 Gen11",
        location=amsterdam,
        rack="A12",
        note="Racked in A12, U20-21.",
    )
    delivery_step_record(
        delivery=physical, step=S.OS_INSTALLED, actor=sr, now=moment + timedelta(hours=3)
    )

    # 2. A VMware VPS for 2000, waiting for the customer's test.
    start = now - timedelta(days=6)
    virtual = delivery_request(
        customer=korenschoof,
        origin="order",
        requested_by=staff["itm"],
        server_kind="virtual",
        hypervisor="vmware",
        os_name="Debian 12",
        webserver="Apache 2.4",
        database="MariaDB 11",
        firewall="",
        contacts="Karin Korenhof <karin@korenschoof.example>, +31 20 555 0200",
        wanted_on=today + timedelta(days=3),
        order_reference="Order W-88213",
        now=start,
    )
    moment = _steps(virtual, [S.VPS_CREATED], sr, start)
    delivery_machine_register(
        delivery=virtual,
        actor=sr,
        now=moment + timedelta(hours=1),
        hostname="vps21.korenschoof.example",
        machine_type="VMware VM, 4 vCPU, 8 GB",
        location=amsterdam,
    )
    _steps(
        virtual,
        [S.OS_INSTALLED, S.SOFTWARE_INSTALLED, S.CONFIGURED, S.TESTED, S.CUSTOMER_ACCOUNT],
        sr,
        moment + timedelta(hours=1),
    )

    # 3. A Hyper-V VPS for 1000, delivered last month; accepted in the second round.
    customer_user = User.objects.filter(customer=hoogendijk, is_active=True).order_by("pk").first()
    if customer_user is None:
        return
    delivered_on = _last_month(today)
    start = timezone.make_aware(
        datetime.combine(delivered_on - timedelta(days=16), datetime.min.time())
    ) + timedelta(hours=9)
    done = delivery_request(
        customer=hoogendijk,
        origin="order",
        requested_by=staff["itm"],
        server_kind="virtual",
        hypervisor="hyperv",
        os_name="Windows Server 2022",
        webserver="IIS 10",
        database="SQL Server 2022 Express",
        firewall="Windows Defender Firewall",
        contacts="Kees Hoogendijk <kees@hoogendijk.example>",
        wanted_on=delivered_on,
        order_reference="Order W-87540",
        now=start,
    )
    moment = _steps(done, [S.VPS_CREATED], head, start)
    delivery_machine_register(
        delivery=done,
        actor=head,
        now=moment + timedelta(hours=1),
        hostname="vps07.hoogendijk.example",
        machine_type="Hyper-V VM, 2 vCPU, 8 GB",
        location=amsterdam,
    )
    moment = _steps(
        done,
        [S.OS_INSTALLED, S.SOFTWARE_INSTALLED, S.CONFIGURED, S.TESTED, S.CUSTOMER_ACCOUNT],
        head,
        moment + timedelta(hours=1),
    )
    moment += timedelta(days=2)
    delivery_customer_reject(
        delivery=done,
        actor=customer_user,
        now=moment,
        remarks="The SQL Server login for the reporting tool does not work.",
    )
    delivery_issue_record(
        delivery=done,
        description="SQL Server was installed in Windows-only authentication mode.",
        actor=head,
        now=moment + timedelta(hours=2),
    )
    delivery_retest(
        delivery=done, actor=head, now=moment + timedelta(hours=3), note="Mixed mode enabled."
    )
    delivery_customer_accept(delivery=done, actor=customer_user, now=moment + timedelta(days=1))
    moment = _steps(done, [S.DOCUMENTED], head, moment + timedelta(days=1))
    delivery_confirm(delivery=done, actor=head, now=moment + timedelta(hours=1))
    delivery_complete(delivery=done, actor=head, now=moment + timedelta(hours=2))
