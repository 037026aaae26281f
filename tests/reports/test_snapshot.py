"""The monthly snapshot: last month's KPIs kept once by the beat task, never
rewritten by later edits."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from events.models import Event
from reports import services
from reports.models import MonthlySnapshot
from reports.services import snapshot_month
from reports.tasks import snapshot_month as snapshot_task
from servicedesk.celery import BEAT_SCHEDULE, app
from tests.base import Personas
from tests.reports import dataset
from tests.reports.dataset import ams
from tickets.services import ticket_create


@pytest.fixture
def built(personas: Personas) -> dataset.Dataset:
    return dataset.build(personas)


def test_the_task_keeps_last_month_once(built: object) -> None:
    with time_machine.travel(dataset.NOW, tick=False):
        assert snapshot_task() == {"month": "2026-11-01", "created": True}
        assert snapshot_task() == {"month": "2026-11-01", "created": False}
    snapshot = MonthlySnapshot.objects.get()
    assert (snapshot.month, snapshot.created_at) == (date(2026, 11, 1), dataset.NOW)
    assert snapshot.values["kpis"] == dataset.EXPECTED
    assert snapshot.values["tables"]["backups.by_severity"]["rows"] == [
        ["major", 1, 1, 0],
        ["minor", 1, 0, 1],
    ]
    assert Event.objects.filter(kind="report.snapshot_taken").count() == 1


def test_just_after_midnight_on_the_first_it_is_last_month_in_amsterdam(db: None) -> None:
    # 00:05 on 1 December in Amsterdam: 30 November 23:05 in UTC.
    with time_machine.travel(ams(12, 1, 0, 5), tick=False):
        assert snapshot_task()["month"] == "2026-11-01"


def test_later_edits_do_not_rewrite_a_kept_month(personas: Personas, built: object) -> None:
    snapshot, created = snapshot_month(month=date(2026, 11, 1), now=dataset.NOW)
    assert created
    ticket_create(
        customer=personas.other_customer,
        subject="Registered afterwards",
        message="Dated back into November.",
        type="incident",
        channel="phone",
        actor=personas.jr,
        now=ams(11, 20, 9),
    )
    again, created = snapshot_month(month=date(2026, 11, 1), now=dataset.NOW + timedelta(days=2))
    assert (again.pk, created) == (snapshot.pk, False)
    again.refresh_from_db()
    assert again.values["kpis"]["incidents.count"] == 6
    assert again.created_at == dataset.NOW


def test_only_a_closed_month_given_by_its_first_day_is_kept(db: None) -> None:
    with pytest.raises(ValidationError, match="first day"):
        snapshot_month(month=date(2026, 11, 2), now=dataset.NOW)
    with pytest.raises(ValidationError, match="ended"):
        snapshot_month(month=date(2026, 12, 1), now=dataset.NOW)
    assert not MonthlySnapshot.objects.exists()


def test_one_snapshot_per_month_is_a_database_fact(db: None) -> None:
    MonthlySnapshot.objects.create(month=date(2026, 10, 1), created_at=dataset.NOW, values={})
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlySnapshot.objects.create(month=date(2026, 10, 1), created_at=dataset.NOW, values={})


def test_of_two_racing_workers_the_second_keeps_the_first_ones_snapshot(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services.report_values

    def slow_compute(**kwargs: Any) -> Any:
        # The other worker inserts while this one is still computing.
        MonthlySnapshot.objects.create(
            month=date(2026, 11, 1), created_at=dataset.NOW, values={"kpis": {}, "tables": {}}
        )
        return real(**kwargs)

    monkeypatch.setattr(services, "report_values", slow_compute)
    snapshot, created = snapshot_month(month=date(2026, 11, 1), now=dataset.NOW)
    assert not created
    assert snapshot.values == {"kpis": {}, "tables": {}}
    assert MonthlySnapshot.objects.count() == 1


def test_beat_runs_it_nightly_with_an_expiry() -> None:
    entry = BEAT_SCHEDULE["snapshot-month"]
    assert entry["task"] == "reports.snapshot_month"
    assert entry["options"] == {"expires": 3600}
    assert "reports.snapshot_month" in app.tasks


def test_earlier_months_are_kept_by_the_command_without_replacing_any(db: None) -> None:
    kept = MonthlySnapshot.objects.create(
        month=date(2026, 10, 1), created_at=ams(11, 1, 1, 30), values={"kpis": {}, "tables": {}}
    )
    out = io.StringIO()
    with time_machine.travel(dataset.NOW, tick=False):
        call_command("snapshot_months", since="2026-09", stdout=out)
    assert out.getvalue().splitlines() == [
        "2026-09: kept (2026-12-01 01:30)",
        "2026-10: already kept (2026-11-01 01:30)",
        "2026-11: kept (2026-12-01 01:30)",
    ]
    kept.refresh_from_db()
    assert kept.values == {"kpis": {}, "tables": {}}
    with pytest.raises(CommandError, match="not ended"), time_machine.travel(dataset.NOW):
        call_command("snapshot_months", since="2026-12")
