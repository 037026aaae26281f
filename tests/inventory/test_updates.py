"""Machine updates: registering releases (the "behind" flags and candidates),
research and the change it becomes, the appointment with a test plan, one node
of a redundancy group at a time, the customer's approval, test, install,
post-install test, registration, and the customer informed before and after."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from changes.models import ChangeStatus, Classification
from changes.services import change_decide
from events.models import Event
from events.services import notifications_fan_out, notifications_send_pending
from inventory import update_services
from inventory.item_services import item_create, software_set
from inventory.models import (
    UPDATE_TRANSITIONS,
    ConfigurationItem,
    InstalledSoftware,
    ItemStatus,
    Location,
    MachineUpdate,
    SoftwareRelease,
    UpdateStatus,
)
from inventory.update_rules import Research, change_answers, update_window, windows_overlap
from inventory.update_selectors import (
    machines_behind,
    portal_updates,
    update_get,
    updates_planning,
    updates_visible_to,
)
from inventory.update_services import (
    software_release_register,
    update_approve,
    update_create,
    update_fail,
    update_install,
    update_register,
    update_research,
    update_schedule,
    update_test,
    update_transition,
    update_verify,
)
from tests.base import Personas, make_personas
from tests.concurrency import race as _race

# Tuesday 10 March 2026, 10:00 in Amsterdam (CET = UTC+1).
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
# Thursday 12 March 2026, 22:00 in Amsterdam.
EVENING = datetime(2026, 3, 12, 21, 0, tzinfo=UTC)
PLAN = "1. Install on staging.\n2. Fetch every virtual host.\n3. Check the error log."


@dataclass
class Park:
    web01: ConfigurationItem  # customer 1000, production, group "web"
    web02: ConfigurationItem  # customer 1000, production, group "web"
    shop01: ConfigurationItem  # customer 1000, production, no group: its changes stay minor
    db01: ConfigurationItem  # customer 1000, installed, no group, nginx already current
    own01: ConfigurationItem  # the company's own, production
    old01: ConfigurationItem  # decommissioned
    other01: ConfigurationItem  # customer 2000


def machine(
    personas: Personas,
    hostname: str,
    *,
    customer: Any = None,
    status: str = ItemStatus.IN_PRODUCTION,
    group: str = "",
    software: tuple[tuple[str, str], ...] = (),
) -> ConfigurationItem:
    item = item_create(
        actor=personas.sr,
        now=NOW - timedelta(days=30),
        hostname=hostname,
        kind="vps_vmware",
        customer=customer,
        location=Location.objects.get(code="ams1"),
        status=status,
        redundancy_group=group,
    )
    for name, version in software:
        software_set(item=item, name=name, version=version, actor=personas.sr, now=NOW)
    return item


def make_park(personas: Personas) -> Park:
    customer, other = personas.customer, personas.other_customer
    nginx = (("nginx", "1.24.0"), ("OpenSSL", "3.0.2"))
    return Park(
        web01=machine(personas, "web01.example.nl", customer=customer, group="web", software=nginx),
        web02=machine(personas, "web02.example.nl", customer=customer, group="web", software=nginx),
        shop01=machine(personas, "shop01.example.nl", customer=customer, software=nginx),
        db01=machine(
            personas,
            "db01.example.nl",
            customer=customer,
            status=ItemStatus.INSTALLED,
            software=(("nginx", "1.26.2"), ("OpenSSL", "3.0.2")),
        ),
        own01=machine(personas, "own01.amsio.nl", software=nginx),
        old01=machine(
            personas,
            "old01.example.nl",
            customer=customer,
            status=ItemStatus.DECOMMISSIONED,
            software=nginx,
        ),
        other01=machine(personas, "other01.example.nl", customer=other, software=nginx),
    )


def release(personas: Personas, name: str = "nginx", version: str = "1.26.2") -> SoftwareRelease:
    return software_release_register(
        name=name,
        version=version,
        source="https://nginx.org/en/security_advisories.html",
        actor=personas.sr,
        now=NOW,
    )


def update_of(item: ConfigurationItem, software: str = "nginx") -> MachineUpdate:
    return MachineUpdate.objects.get(item=item, software=software, status=UpdateStatus.CANDIDATE)


def research(update: MachineUpdate, personas: Personas, **overrides: Any) -> MachineUpdate:
    answers: dict[str, Any] = {
        "impact": "Fixes CVE-2024-7347.",
        "applies": True,
        "causes_downtime": False,
        "downtime_minutes": None,
        "customer_wants_it": True,
        "workaround": "",
        "one_node_at_a_time": False,
        "rollback_plan": "Reinstall 1.24.0.",
    }
    answers.update(overrides)
    return update_research(update=update, actor=personas.sr, now=NOW, **answers)


def scheduled(
    update: MachineUpdate, personas: Personas, at: datetime = EVENING, **overrides: Any
) -> MachineUpdate:
    update = research(update, personas, **overrides)
    return update_schedule(
        update=update, appointment_at=at, test_plan=PLAN, actor=personas.sr, now=NOW
    )


def through_test(update: MachineUpdate, personas: Personas, **overrides: Any) -> MachineUpdate:
    update = scheduled(update, personas, **overrides)
    update = update_approve(update=update, actor=personas.customer_user, now=NOW)
    return update_test(
        update=update, passed=True, result="Staging fine.", actor=personas.sr, now=EVENING
    )


def deliver() -> None:
    notifications_fan_out(now=NOW, limit=100)
    notifications_send_pending(now=NOW, limit=100)


@pytest.fixture
def park(personas: Personas) -> Park:
    return make_park(personas)


# --- Pure rules -----------------------------------------------------------------------


def _research(**overrides: Any) -> Research:
    values: dict[str, Any] = {
        "hostname": "web01.example.nl",
        "in_production": True,
        "redundancy_group": "",
        "causes_downtime": False,
        "downtime_minutes": None,
        "workaround": "",
    }
    values.update(overrides)
    return Research(**values)


def test_it_answers_no_four_times_for_an_update_without_downtime_or_group() -> None:
    answers, justifications = change_answers(_research())
    assert answers == {
        "multiple_users": False,
        "dependencies": False,
        "unsupported": False,
        "investment": False,
    }
    assert justifications == {}


def test_it_derives_each_yes_with_its_justification() -> None:
    answers, why = change_answers(
        _research(redundancy_group="web", causes_downtime=True, downtime_minutes=5)
    )
    assert answers == {
        "multiple_users": True,
        "dependencies": True,
        "unsupported": True,
        "investment": False,
    }
    assert "in production" in why["multiple_users"] and "5 minutes" in why["multiple_users"]
    assert "redundancy group web" in why["dependencies"]
    assert "No workaround" in why["unsupported"]


def test_it_needs_production_for_multiple_users_and_no_workaround_for_unsupported() -> None:
    answers, _ = change_answers(
        _research(in_production=False, causes_downtime=True, downtime_minutes=5, workaround="DNS")
    )
    assert not answers["multiple_users"] and not answers["unsupported"]


def test_it_takes_an_investment_only_when_told() -> None:
    answers, why = change_answers(
        _research(investment=True, investment_justification="A licence upgrade.")
    )
    assert answers["investment"] and why == {"investment": "A licence upgrade."}


def test_it_occupies_the_downtime_or_a_default_hour() -> None:
    assert update_window(EVENING, True, 20) == (EVENING, EVENING + timedelta(minutes=20))
    assert update_window(EVENING, False, None) == (EVENING, EVENING + timedelta(hours=1))


def test_it_treats_windows_as_half_open() -> None:
    hour = timedelta(hours=1)
    assert windows_overlap((EVENING, EVENING + hour), (EVENING + hour / 2, EVENING + 2 * hour))
    assert not windows_overlap((EVENING, EVENING + hour), (EVENING + hour, EVENING + 2 * hour))


# --- Releases and candidates -----------------------------------------------------------


def test_it_marks_machines_behind_and_proposes_candidates(personas: Personas, park: Park) -> None:
    stored = release(personas)
    assert (stored.name, stored.version, stored.registered_at) == ("nginx", "1.26.2", NOW)
    rows = {
        row.item.hostname: row
        for row in InstalledSoftware.objects.filter(name="nginx").select_related("item")
    }
    assert all(row.latest_version == "1.26.2" for row in rows.values())
    assert {host for host, row in rows.items() if row.behind} == {
        "shop01.example.nl",
        "web01.example.nl",
        "web02.example.nl",
        "own01.amsio.nl",
        "old01.example.nl",
        "other01.example.nl",
    }
    candidates = MachineUpdate.objects.filter(software="nginx").select_related("item")
    # Not for the decommissioned machine, nor for db01 which is current.
    assert {u.item.hostname for u in candidates} == {
        "shop01.example.nl",
        "web01.example.nl",
        "web02.example.nl",
        "own01.amsio.nl",
        "other01.example.nl",
    }
    update = update_of(park.web01)
    assert update.number and update.number.startswith("U-") and len(update.number) == 8
    assert (update.current_version, update.new_version) == ("1.24.0", "1.26.2")
    assert update.source == "https://nginx.org/en/security_advisories.html"
    event = Event.objects.get(kind="update.candidate", object_id=update.pk)
    assert (event.actor, event.to_state) == (personas.sr, "candidate")


def test_registering_a_release_twice_creates_nothing_new(personas: Personas, park: Park) -> None:
    release(personas)
    before = list(MachineUpdate.objects.values_list("pk", "number").order_by("pk"))
    release(personas)
    assert list(MachineUpdate.objects.values_list("pk", "number").order_by("pk")) == before
    assert SoftwareRelease.objects.count() == 1


def test_an_older_release_than_the_known_one_is_refused(personas: Personas, park: Park) -> None:
    release(personas)
    with pytest.raises(ValidationError) as error:
        release(personas, version="1.25.0")
    assert "1.26.2" in str(error.value)


def test_names_match_without_case_and_keep_the_machines_spelling(
    personas: Personas, park: Park
) -> None:
    release(personas, name="openssl", version="3.0.15")
    update = update_of(park.web01, "OpenSSL")
    assert update.new_version == "3.0.15"
    assert InstalledSoftware.objects.get(item=park.db01, name="OpenSSL").behind


def test_a_newer_release_supersedes_candidates_nobody_researched(
    personas: Personas, park: Park
) -> None:
    release(personas, version="1.26.1")
    researched = research(update_of(park.web01), personas)
    release(personas, version="1.26.2")
    old = MachineUpdate.objects.get(item=park.web02, new_version="1.26.1")
    assert old.status == UpdateStatus.NOT_APPLICABLE
    assert Event.objects.get(object_id=old.pk, to_state="not_applicable").reason == (
        "Superseded by 1.26.2."
    )
    researched.refresh_from_db()
    assert researched.status == UpdateStatus.RESEARCHED  # work in progress is kept
    assert update_of(park.web02).new_version == "1.26.2"


def test_installing_a_version_keeps_behind_current(personas: Personas, park: Park) -> None:
    release(personas)
    software_set(item=park.web01, name="nginx", version="1.26.2", actor=personas.sr, now=NOW)
    row = InstalledSoftware.objects.get(item=park.web01, name="nginx")
    assert (row.behind, row.latest_version) == (False, "1.26.2")


def test_machines_behind_groups_rows_per_machine_in_few_queries(
    personas: Personas, park: Park
) -> None:
    release(personas)
    release(personas, name="OpenSSL", version="3.0.15")
    with CaptureQueriesContext(connection) as queries:
        machines = machines_behind()
    assert len(queries) == 1
    by_host = {m.item.hostname: [s.name for s in m.software] for m in machines}
    assert by_host["web01.example.nl"] == ["OpenSSL", "nginx"]
    assert by_host["db01.example.nl"] == ["OpenSSL"]
    assert "old01.example.nl" not in by_host  # decommissioned
    web01 = next(m for m in machines if m.item.hostname == "web01.example.nl")
    assert web01.software[1].update_number == update_of(park.web01).number  # type: ignore[attr-defined]
    assert [m.item.hostname for m in machines_behind(software="NGINX")] == [
        "other01.example.nl",
        "own01.amsio.nl",
        "shop01.example.nl",
        "web01.example.nl",
        "web02.example.nl",
    ]


def test_a_candidate_by_hand(personas: Personas, park: Park) -> None:
    update = update_create(
        item=park.web01,
        software="NGINX",
        new_version="1.27.0",
        source="mailing list",
        actor=personas.jr,
        now=NOW,
    )
    assert (update.software, update.current_version, update.status) == (
        "nginx",
        "1.24.0",
        UpdateStatus.CANDIDATE,
    )
    assert update.number == f"U-{update.pk:06d}"
    with pytest.raises(ValidationError, match="registered already"):
        update_create(
            item=park.web01, software="nginx", new_version="1.27.0", actor=personas.jr, now=NOW
        )
    with pytest.raises(ValidationError, match=r"runs nginx 1\.26\.2 already"):
        update_create(
            item=park.db01, software="nginx", new_version="1.26.2", actor=personas.jr, now=NOW
        )
    with pytest.raises(ValidationError, match="decommissioned"):
        update_create(
            item=park.old01, software="nginx", new_version="1.27.0", actor=personas.jr, now=NOW
        )
    with pytest.raises(PermissionDenied):
        update_create(
            item=park.web01,
            software="php",
            new_version="8.3",
            actor=personas.customer_user,
            now=NOW,
        )


# --- Research and the change -----------------------------------------------------------


def test_an_update_that_does_not_apply_needs_a_reason(personas: Personas, park: Park) -> None:
    release(personas)
    update = update_of(park.web01)
    with pytest.raises(ValidationError) as error:
        research(update, personas, applies=False)
    assert "reason" in error.value.message_dict
    update = research(update, personas, applies=False, reason="We do not use the MP4 module.")
    assert update.status == UpdateStatus.NOT_APPLICABLE
    assert update.change is None
    assert update.applies is False and update.engineer == personas.sr


def test_research_rules(personas: Personas, park: Park) -> None:
    release(personas)
    with pytest.raises(ValidationError) as error:
        research(update_of(park.own01), personas, causes_downtime=True, impact=" ")
    assert set(error.value.message_dict) == {"impact", "downtime_minutes"}
    with pytest.raises(ValidationError, match="redundancy group first"):
        research(update_of(park.own01), personas, one_node_at_a_time=True)


def test_a_quiet_update_becomes_a_minor_change(personas: Personas, park: Park) -> None:
    release(personas)
    update = research(update_of(park.own01), personas)
    assert update.status == UpdateStatus.RESEARCHED
    change = update.change
    assert change is not None
    assert change.classification == Classification.MINOR
    assert change.status == ChangeStatus.SUBMITTED
    assert change.affected_machines == ["own01.amsio.nl"]
    assert change.customer is None
    assert "nginx 1.24.0 → 1.26.2 on own01.amsio.nl" in change.subject
    assert "Fixes CVE-2024-7347." in change.message
    assert change.rollback_plan == "Reinstall 1.24.0."
    event = Event.objects.get(object_id=update.pk, to_state="researched")
    assert event.data["change"] == change.number
    assert event.data["changes"]["impact"] == ["", "Fixes CVE-2024-7347."]


def test_a_production_node_going_down_becomes_a_major_change(
    personas: Personas, park: Park
) -> None:
    release(personas)
    update = research(
        update_of(park.web01),
        personas,
        causes_downtime=True,
        downtime_minutes=5,
        one_node_at_a_time=True,
    )
    change = update.change
    assert change is not None
    assert change.classification == Classification.MAJOR
    assert change.status == ChangeStatus.AWAITING_CAB
    assert change.customer == personas.customer
    assert (change.multiple_users, change.dependencies, change.unsupported) == (True, True, True)
    assert change.investment is False
    assert set(change.justifications) == {"multiple_users", "dependencies", "unsupported"}
    assert "one node" in change.implementation_plan.lower()


# --- Appointment -------------------------------------------------------------------------


def test_no_appointment_without_a_test_plan_or_in_the_past(personas: Personas, park: Park) -> None:
    release(personas)
    update = research(update_of(park.web01), personas)
    with pytest.raises(ValidationError) as error:
        update_schedule(
            update=update, appointment_at=NOW, test_plan=" ", actor=personas.sr, now=NOW
        )
    assert set(error.value.message_dict) == {"test_plan", "appointment_at"}
    update.refresh_from_db()
    assert update.status == UpdateStatus.RESEARCHED


def test_the_appointment_informs_the_customer_and_plans_the_change(
    personas: Personas, park: Park
) -> None:
    personas.customer.email = "it@hoogendijk.example"
    personas.customer.save()
    release(personas)
    update = scheduled(update_of(park.web01), personas, causes_downtime=True, downtime_minutes=20)
    assert update.status == UpdateStatus.SCHEDULED
    assert (update.appointment_at, update.test_plan) == (EVENING, PLAN)
    assert update.customer_informed_before_at == NOW
    change = update.change
    assert change is not None
    assert (change.planned_start, change.planned_end) == (EVENING, EVENING + timedelta(minutes=20))
    assert Event.objects.filter(object_id=change.pk, kind="change.replanned").exists()
    deliver()
    before = [m for m in mail.outbox if str(update.number) in str(m.subject)]
    assert sorted(m.to[0] for m in before) == ["customer1@example.test", "it@hoogendijk.example"]
    message = before[0]
    assert "planned for 2026-03-12 22:00" in message.subject
    assert "about 20 minutes" in message.body
    assert "/portal/" in message.body


def test_an_own_machine_has_no_customer_to_inform(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.own01), personas)
    assert update.customer_informed_before_at is None
    deliver()
    assert not [m for m in mail.outbox if str(update.number) in str(m.subject)]


def test_moving_the_appointment_informs_the_customer_again(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.web01), personas)
    later = EVENING + timedelta(days=1)
    update = update_schedule(
        update=update, appointment_at=later, test_plan=PLAN, actor=personas.jr, now=NOW
    )
    assert update.appointment_at == later
    deliver()
    subjects = [m.subject for m in mail.outbox if str(update.number) in str(m.subject)]
    assert any("moved to 2026-03-13 22:00" in s for s in subjects)


def test_one_node_at_a_time_refuses_an_overlapping_appointment(
    personas: Personas, park: Park
) -> None:
    release(personas)
    first = scheduled(
        update_of(park.web01),
        personas,
        causes_downtime=True,
        downtime_minutes=30,
        one_node_at_a_time=True,
    )
    second = research(
        update_of(park.web02),
        personas,
        causes_downtime=True,
        downtime_minutes=30,
        one_node_at_a_time=True,
    )
    with pytest.raises(ValidationError) as error:
        update_schedule(
            update=second,
            appointment_at=EVENING + timedelta(minutes=15),
            test_plan=PLAN,
            actor=personas.sr,
            now=NOW,
        )
    assert str(first.number) in str(error.value) and "web01.example.nl" in str(error.value)
    # Right after the first node's window: allowed.
    second = update_schedule(
        update=second,
        appointment_at=EVENING + timedelta(minutes=30),
        test_plan=PLAN,
        actor=personas.sr,
        now=NOW,
    )
    assert second.status == UpdateStatus.SCHEDULED


def test_another_groups_machine_may_go_at_the_same_time(personas: Personas, park: Park) -> None:
    release(personas)
    scheduled(update_of(park.web01), personas, one_node_at_a_time=True)
    other = scheduled(update_of(park.other01), personas)
    assert other.appointment_at == EVENING


def test_a_finished_node_no_longer_holds_its_window(personas: Personas, park: Park) -> None:
    release(personas)
    first = scheduled(update_of(park.web01), personas, one_node_at_a_time=True)
    update_fail(update=first, reason="Customer asked to wait.", actor=personas.sr, now=NOW)
    second = scheduled(update_of(park.web02), personas, one_node_at_a_time=True)
    assert second.status == UpdateStatus.SCHEDULED


# --- Approval ----------------------------------------------------------------------------


def test_the_customer_approves_in_the_portal(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.web01), personas)
    update = update_approve(update=update, actor=personas.customer_user, now=NOW)
    assert update.status == UpdateStatus.APPROVED
    assert (update.approved_by, update.approved_at) == (personas.customer_user, NOW)
    event = Event.objects.get(object_id=update.pk, to_state="approved")
    assert event.actor == personas.customer_user and event.data["in_portal"] is True


def test_another_customer_cannot_approve(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.web01), personas)
    with pytest.raises(PermissionDenied):
        update_approve(update=update, actor=personas.other_customer_user, now=NOW)
    update.refresh_from_db()
    assert update.status == UpdateStatus.SCHEDULED


def test_staff_record_how_the_customer_approved(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.web01), personas)
    with pytest.raises(ValidationError) as error:
        update_approve(update=update, actor=personas.jr, now=NOW)
    assert "note" in error.value.message_dict
    update = update_approve(
        update=update, actor=personas.jr, now=NOW, note="By phone with Mr Hoogendijk."
    )
    assert (update.approved_by, update.approval_note) == (
        personas.jr,
        "By phone with Mr Hoogendijk.",
    )


def test_no_approval_before_the_appointment(personas: Personas, park: Park) -> None:
    release(personas)
    update = research(update_of(park.web01), personas)
    with pytest.raises(ValidationError):
        update_approve(update=update, actor=personas.customer_user, now=NOW)


# --- Test, install, verify, register ---------------------------------------------------


def test_no_test_before_the_customers_approval(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.own01), personas)
    with pytest.raises(ValidationError):
        update_test(update=update, passed=True, result="fine", actor=personas.sr, now=NOW)


def test_a_test_needs_its_result(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.web01), personas)
    update = update_approve(update=update, actor=personas.customer_user, now=NOW)
    with pytest.raises(ValidationError) as error:
        update_test(update=update, passed=True, result="", actor=personas.sr, now=NOW)
    assert "result" in error.value.message_dict


def test_a_failed_test_fails_the_update_and_tells_the_customer(
    personas: Personas, park: Park
) -> None:
    release(personas)
    update = scheduled(update_of(park.shop01), personas)
    update = update_approve(update=update, actor=personas.customer_user, now=NOW)
    update = update_test(
        update=update, passed=False, result="Staging: 502 on the shop.", actor=personas.sr, now=NOW
    )
    assert update.status == UpdateStatus.FAILED
    assert update.test_result == "Staging: 502 on the shop."
    assert update.change is not None
    assert update.change.status == ChangeStatus.SUBMITTED  # never started: reusable
    deliver()
    failed = [m for m in mail.outbox if "did not go ahead" in str(m.subject)]
    assert [m.to for m in failed] == [["customer1@example.test"]]
    assert "502 on the shop" in failed[0].body


def test_a_new_appointment_after_a_failure_needs_a_new_approval(
    personas: Personas, park: Park
) -> None:
    release(personas)
    update = through_test(update_of(park.shop01), personas)
    update = update_fail(update=update, reason="Disk full.", actor=personas.sr, now=NOW)
    update = update_schedule(
        update=update,
        appointment_at=EVENING + timedelta(days=7),
        test_plan=PLAN,
        actor=personas.sr,
        now=NOW,
    )
    assert update.status == UpdateStatus.SCHEDULED
    assert (update.approved_at, update.approved_by, update.test_result) == (None, None, "")


def test_a_major_change_must_be_approved_before_the_install(personas: Personas, park: Park) -> None:
    release(personas)
    update = through_test(
        update_of(park.web01),
        personas,
        causes_downtime=True,
        downtime_minutes=5,
        one_node_at_a_time=True,
    )
    assert update.change is not None
    with pytest.raises(ValidationError, match="CAB must approve"):
        update_install(update=update, actor=personas.sr, now=EVENING)
    change = update.change
    change_decide(change=change, decision="approved", actor=personas.cm, now=NOW)
    update = update_install(update=update, actor=personas.sr, now=EVENING)
    assert update.status == UpdateStatus.INSTALLED
    change.refresh_from_db()
    assert change.status == ChangeStatus.IN_PROGRESS


def test_the_install_records_the_new_version_on_the_machine(personas: Personas, park: Park) -> None:
    release(personas)
    update = through_test(update_of(park.shop01), personas)
    update = update_install(update=update, actor=personas.sr, now=EVENING)
    assert (update.status, update.installed_at) == (UpdateStatus.INSTALLED, EVENING)
    row = InstalledSoftware.objects.get(item=park.shop01, name="nginx")
    assert (row.version, row.behind) == ("1.26.2", False)
    assert update.change is not None
    update.change.refresh_from_db()
    assert update.change.status == ChangeStatus.IN_PROGRESS  # the minor change started
    assert "shop01.example.nl" not in [m.item.hostname for m in machines_behind(software="nginx")]


def test_the_whole_way_to_done_informs_the_customer_after(personas: Personas, park: Park) -> None:
    release(personas)
    update = through_test(update_of(park.shop01), personas)
    update = update_install(update=update, actor=personas.sr, now=EVENING)
    with pytest.raises(ValidationError):
        update_register(update=update, how_done="too early", actor=personas.sr, now=EVENING)
    update = update_verify(
        update=update,
        passed=True,
        post_install_result="Sites answer; no 5xx.",
        actor=personas.sr,
        now=EVENING,
    )
    assert update.status == UpdateStatus.VERIFIED
    with pytest.raises(ValidationError) as error:
        update_register(update=update, how_done=" ", actor=personas.sr, now=EVENING)
    assert "how_done" in error.value.message_dict
    done_at = EVENING + timedelta(minutes=30)
    update = update_register(
        update=update, how_done="apt upgrade, reload.", actor=personas.sr, now=done_at
    )
    assert update.status == UpdateStatus.DONE
    assert (update.how_done, update.customer_informed_after_at) == ("apt upgrade, reload.", done_at)
    assert update.change is not None
    update.change.refresh_from_db()
    assert update.change.status == ChangeStatus.IMPLEMENTED
    assert update.change.outcome_note == "apt upgrade, reload."
    deliver()
    after = [m for m in mail.outbox if "is updated" in str(m.subject)]
    assert [m.to for m in after] == [["customer1@example.test"]]
    assert "apt upgrade, reload." in after[0].body
    kinds = list(
        Event.objects.filter(object_id=update.pk, kind="update.transition")
        .order_by("id")
        .values_list("to_state", flat=True)
    )
    assert kinds == [
        "researched",
        "scheduled",
        "approved",
        "tested",
        "installed",
        "verified",
        "done",
    ]


def test_a_failed_post_install_test_fails_the_change(personas: Personas, park: Park) -> None:
    release(personas)
    update = through_test(update_of(park.shop01), personas)
    update = update_install(update=update, actor=personas.sr, now=EVENING)
    update = update_verify(
        update=update,
        passed=False,
        post_install_result="Shop answers 502; rolled back.",
        actor=personas.sr,
        now=EVENING,
    )
    assert update.status == UpdateStatus.FAILED
    old_change = update.change
    assert old_change is not None
    old_change.refresh_from_db()
    assert old_change.status == ChangeStatus.FAILED
    # The next attempt is a new change.
    update = update_schedule(
        update=update,
        appointment_at=EVENING + timedelta(days=7),
        test_plan=PLAN,
        actor=personas.sr,
        now=NOW,
    )
    assert update.change is not None and update.change.pk != old_change.pk
    assert update.change.rollback_plan == old_change.rollback_plan == "Reinstall 1.24.0."
    assert update.change.planned_start == EVENING + timedelta(days=7)


def test_stopping_an_attempt_needs_a_reason(personas: Personas, park: Park) -> None:
    release(personas)
    update = scheduled(update_of(park.shop01), personas)
    with pytest.raises(ValidationError) as error:
        update_fail(update=update, reason="", actor=personas.sr, now=NOW)
    assert "reason" in error.value.message_dict
    candidate = update_of(park.web02)
    with pytest.raises(ValidationError):
        update_fail(update=candidate, reason="nope", actor=personas.sr, now=NOW)


def test_only_staff_carry_out_the_steps(personas: Personas, park: Park) -> None:
    release(personas)
    update = update_of(park.shop01)
    with pytest.raises(PermissionDenied):
        update_research(
            update=update,
            impact="x",
            applies=True,
            causes_downtime=False,
            downtime_minutes=None,
            customer_wants_it=True,
            workaround="",
            one_node_at_a_time=False,
            actor=personas.customer_user,
            now=NOW,
        )
    with pytest.raises(PermissionDenied):
        software_release_register(
            name="nginx", version="9", source="", actor=personas.customer_user, now=NOW
        )


def test_update_transition_refuses_what_the_table_forbids(personas: Personas, park: Park) -> None:
    release(personas)
    update = update_of(park.web01)
    for start in UpdateStatus.values:
        MachineUpdate.objects.filter(pk=update.pk).update(status=start)
        update.refresh_from_db()
        for target in set(UpdateStatus.values) - UPDATE_TRANSITIONS[start]:
            with pytest.raises(ValidationError):
                update_transition(update=update, to=target, actor=personas.sr, now=NOW)
        assert MachineUpdate.objects.get(pk=update.pk).status == start


# --- Who sees what -----------------------------------------------------------------------


def test_staff_see_all_updates_and_customers_their_own(personas: Personas, park: Park) -> None:
    release(personas)
    assert updates_visible_to(personas.jr).count() == 5
    own = set(updates_visible_to(personas.customer_user).values_list("item__hostname", flat=True))
    assert own == {"shop01.example.nl", "web01.example.nl", "web02.example.nl"}
    other = update_of(park.other01)
    with pytest.raises(Http404):
        update_get(user=personas.customer_user, number=other.number or "")
    # The portal shows updates from the appointment on, not the research.
    assert not portal_updates(personas.customer_user).exists()
    scheduled(update_of(park.web01), personas)
    assert portal_updates(personas.customer_user).count() == 1


def test_the_planning_lists_open_updates_by_appointment(personas: Personas, park: Park) -> None:
    release(personas)
    late = scheduled(update_of(park.other01), personas, at=EVENING + timedelta(days=2))
    soon = scheduled(update_of(park.own01), personas)
    research(update_of(park.web02), personas, applies=False, reason="not used")
    numbers = [u.number for u in updates_planning(personas.sr)]
    assert numbers[:2] == [soon.number, late.number]
    assert update_of(park.web01).number in numbers
    assert len(numbers) == 4  # the not-applicable one is closed


# --- Demo data ---------------------------------------------------------------------------


def _staff(personas: Personas) -> dict[str, Any]:
    return {
        "jr": personas.jr,
        "sr": personas.sr,
        "head": personas.head,
        "cm": personas.cm,
        "itm": personas.itm,
        "sales": personas.sales,
    }


def test_the_demo_has_an_update_waiting_for_approval_and_one_done(
    personas: Personas, park: Park
) -> None:
    from inventory.demo_updates import load_demo_updates

    load_demo_updates(_staff(personas), NOW)
    waiting = MachineUpdate.objects.get(status=UpdateStatus.SCHEDULED)
    assert waiting.software == "nginx" and waiting.appointment_at and waiting.appointment_at > NOW
    assert waiting.test_plan and waiting.change is not None
    done = MachineUpdate.objects.get(status=UpdateStatus.DONE)
    assert done.software == "OpenSSL" and done.how_done
    assert done.change is not None and done.change.status == ChangeStatus.IMPLEMENTED
    row = InstalledSoftware.objects.get(item=done.item, name="OpenSSL")
    assert (row.version, row.behind) == ("3.0.15", False)
    count = MachineUpdate.objects.count()
    load_demo_updates(_staff(personas), NOW)  # idempotent
    assert MachineUpdate.objects.count() == count


def test_the_demo_needs_machines(personas: Personas) -> None:
    from inventory.demo_updates import load_demo_updates

    load_demo_updates(_staff(personas), NOW)
    assert not MachineUpdate.objects.exists() and not SoftwareRelease.objects.exists()


# --- Concurrency (PostgreSQL) -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_a_new_release_at_once_propose_each_candidate_once() -> None:
    personas = make_personas()
    make_park(personas)
    succeeded, errors = _race(lambda n: release(personas), threads=3)
    assert (succeeded, errors) == (3, [])
    assert SoftwareRelease.objects.count() == 1
    assert MachineUpdate.objects.filter(software="nginx").count() == 5
    assert not MachineUpdate.objects.filter(number__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_nodes_booked_for_the_same_moment_at_once_get_one_appointment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    personas = make_personas()
    park = make_park(personas)
    release(personas)
    nodes = [
        research(update_of(item), personas, one_node_at_a_time=True)
        for item in (park.web01, park.web02)
    ]
    # Widen the gap between the overlap check and the commit, so that without
    # the lock on the group both bookings would pass the check.
    replan = update_services.change_replan

    def slow_replan(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.3)
        replan(*args, **kwargs)

    monkeypatch.setattr(update_services, "change_replan", slow_replan)
    succeeded, errors = _race(
        lambda n: update_schedule(
            update=nodes[n], appointment_at=EVENING, test_plan=PLAN, actor=personas.sr, now=NOW
        ),
        threads=2,
    )
    assert succeeded == 1
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert MachineUpdate.objects.filter(status=UpdateStatus.SCHEDULED).count() == 1
