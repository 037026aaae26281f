"""Demo data of machine updates, built through the services: two releases
registered two weeks ago (so machines running the items demo's nginx 1.24.0
and OpenSSL 3.0.2 are behind and have candidates), one OpenSSL update carried
out and registered last week, and one nginx update researched and scheduled,
waiting for the customer's approval in the portal."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accounts.models import User
from changes.models import ChangeStatus, Classification
from changes.services import change_decide
from inventory.models import InstalledSoftware, MachineUpdate, UpdateStatus
from inventory.update_services import (
    software_release_register,
    update_approve,
    update_install,
    update_register,
    update_research,
    update_schedule,
    update_test,
    update_verify,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RELEASES = [
    # name, version, source, published on
    ("nginx", "1.26.2", "https://nginx.org/en/security_advisories.html", date(2024, 8, 14)),
    ("OpenSSL", "3.0.15", "https://openssl-library.org/news/vulnerabilities/", date(2024, 9, 3)),
]


def _evening(day: datetime, days: int) -> datetime:
    """22:00 Amsterdam time, `days` after `day`: updates go in after hours."""
    local = (day + timedelta(days=days)).astimezone(AMSTERDAM).date()
    return datetime.combine(local, time(22, 0), tzinfo=AMSTERDAM)


def _candidate(software: str, *, avoid: set[int]) -> MachineUpdate | None:
    """A candidate on a customer's machine, preferring one outside a
    redundancy group (its change stays minor)."""
    candidates = (
        MachineUpdate.objects.filter(
            status=UpdateStatus.CANDIDATE,
            software__iexact=software,
            item__customer__isnull=False,
        )
        .exclude(item_id__in=avoid)
        .select_related("item__customer")
        .order_by("item__redundancy_group", "pk")
    )
    return candidates.first()


def load_demo_updates(staff: dict[str, User], now: datetime) -> None:
    if MachineUpdate.objects.exists():
        return
    if not InstalledSoftware.objects.exists():
        return  # no demo machines: nothing to update
    sr = staff["sr"]
    registered = now - timedelta(days=14)
    for name, version, source, published in RELEASES:
        software_release_register(
            name=name,
            version=version,
            source=source,
            published_on=published,
            actor=sr,
            now=registered,
        )
    done = _candidate("OpenSSL", avoid=set())
    if done is not None:
        _carried_out(done, staff, registered + timedelta(days=2))
    waiting = _candidate("nginx", avoid={done.item_id} if done else set())
    if waiting is not None:
        _scheduled(waiting, sr, now)


def _carried_out(update: MachineUpdate, staff: dict[str, User], start: datetime) -> None:
    sr = staff["sr"]
    update = update_research(
        update=update,
        impact="Fixes CVE-2024-5535 (SSL_select_next_proto buffer overread) and "
        "CVE-2024-6119 (crash in X.509 name checks). Restarts the services using TLS.",
        applies=True,
        causes_downtime=False,
        downtime_minutes=None,
        customer_wants_it=True,
        workaround="",
        one_node_at_a_time=False,
        rollback_plan="Reinstall the previous OpenSSL package from the local mirror.",
        actor=sr,
        now=start,
    )
    appointment = _evening(start, 3)
    update = update_schedule(
        update=update,
        appointment_at=appointment,
        test_plan="1. Install 3.0.15 on the staging copy.\n"
        "2. openssl s_client against every TLS service.\n"
        "3. Check the web shop's payment callback.",
        actor=sr,
        now=start + timedelta(hours=1),
    )
    customer = update.item.customer
    customer_user = customer.users.filter(is_active=True).first() if customer else None
    approved_at = start + timedelta(days=1)
    if customer_user is not None:
        update = update_approve(update=update, actor=customer_user, now=approved_at)
    else:
        update = update_approve(
            update=update, actor=sr, now=approved_at, note="By phone with the IT contact."
        )
    _change_approved(update, staff, approved_at)
    update = update_test(
        update=update,
        passed=True,
        result="Staging: all TLS services answer; payment callback works.",
        actor=sr,
        now=appointment - timedelta(hours=2),
    )
    update = update_install(update=update, actor=sr, now=appointment + timedelta(minutes=10))
    update = update_verify(
        update=update,
        passed=True,
        post_install_result="openssl version shows 3.0.15; services restarted; monitoring green.",
        actor=sr,
        now=appointment + timedelta(minutes=25),
    )
    update_register(
        update=update,
        how_done="Package upgraded from the local mirror, services restarted one by one; "
        "no downtime noticed by monitoring.",
        actor=sr,
        now=appointment + timedelta(minutes=40),
    )


def _change_approved(update: MachineUpdate, staff: dict[str, User], now: datetime) -> None:
    """A major change (the machine is a node of a redundancy group) is decided
    by the change manager before the install."""
    change = update.change
    if (
        change is not None
        and change.classification == Classification.MAJOR
        and change.status == ChangeStatus.AWAITING_CAB
    ):
        change_decide(change=change, decision="approved", actor=staff["cm"], now=now)


def _scheduled(update: MachineUpdate, sr: User, now: datetime) -> None:
    grouped = bool(update.item.redundancy_group)
    update = update_research(
        update=update,
        impact="Fixes CVE-2024-7347 (worker crash in the MP4 module). "
        "A reload of nginx; connections in flight are dropped.",
        applies=True,
        causes_downtime=True,
        downtime_minutes=5,
        customer_wants_it=True,
        workaround="The other node serves the sites meanwhile." if grouped else "",
        one_node_at_a_time=grouped,
        rollback_plan="Reinstall nginx 1.24.0 from the local mirror and reload.",
        actor=sr,
        now=now - timedelta(days=1),
    )
    update_schedule(
        update=update,
        appointment_at=_evening(now, 3),
        test_plan="1. nginx -t with the new binary on staging.\n"
        "2. Fetch every virtual host's start page.\n"
        "3. Check the access log for 5xx after the reload.",
        actor=sr,
        now=now - timedelta(hours=20),
    )
