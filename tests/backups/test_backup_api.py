"""The backups API: the backup script reports runs, clients read the checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from backups.models import BackupCheck, BackupRun
from backups.services import backup_checks_create
from tests.backups.factories import BackupSetup, make_backup_setup
from tests.backups.test_daily_check import WED_0900, WED_1030
from tests.base import Personas

URL = "/api/v1/backup-runs/"
RUN = {
    "job": "web01-mysql",
    "status": "failed",
    "started_at": "2026-11-25T01:00:04+01:00",
    "finished_at": "2026-11-25T03:12:40+01:00",
    "size_bytes": 123456789,
    "message": "mysqldump: Lost connection",
}


@pytest.fixture
def setup(personas: Personas) -> BackupSetup:
    return make_backup_setup(personas)


@pytest.fixture
def script(token_client: Callable[..., APIClient]) -> APIClient:
    return token_client("backups:write", name="backup script")


def test_the_script_reports_a_run(setup: BackupSetup, script: APIClient) -> None:
    with time_machine.travel(WED_0900, tick=False):
        response = script.post(URL, RUN, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["job"] == "web01-mysql" and body["status"] == "failed"
    assert body["source"] == "api" and body["full"] is False
    run = BackupRun.objects.get()
    assert run.started_at == datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC)
    assert run.size_bytes == 123456789


def test_the_same_job_and_start_twice_updates_the_one_run(
    setup: BackupSetup, script: APIClient
) -> None:
    assert script.post(URL, RUN, format="json").status_code == 201
    again = script.post(URL, {**RUN, "status": "success", "message": "retried"}, format="json")
    assert again.status_code == 200
    run = BackupRun.objects.get()
    assert (run.status, run.message) == ("success", "retried")


def test_a_late_report_through_the_api_updates_the_open_check(
    setup: BackupSetup, script: APIClient
) -> None:
    backup_checks_create(now=WED_0900)
    with time_machine.travel(WED_1030, tick=False):
        assert script.post(URL, {**RUN, "status": "success"}, format="json").status_code == 201
    line = BackupCheck.objects.get(group=setup.unix).lines.get(job=setup.mysql)
    assert line.state == "ok"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"job": "nope"}, "job"),
        ({"status": "meh"}, "status"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"finished_at": "2026-11-25T00:30:00+01:00"}, "finished_at"),
        ({"size_bytes": -1}, "size_bytes"),
    ],
)
def test_bad_input_answers_400_with_the_field_and_stores_nothing(
    setup: BackupSetup, script: APIClient, change: dict[str, object], field: str
) -> None:
    response = script.post(URL, {**RUN, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not BackupRun.objects.exists()


def test_a_token_without_the_scope_is_refused(
    setup: BackupSetup, token_client: Callable[..., APIClient]
) -> None:
    assert token_client("backups:read").post(URL, RUN, format="json").status_code == 403
    assert APIClient().post(URL, RUN, format="json").status_code == 401


def test_a_customer_cannot_report_or_read(setup: BackupSetup, personas: Personas) -> None:
    client = APIClient()
    client.force_authenticate(personas.customer_user)
    assert client.post(URL, RUN, format="json").status_code == 403
    assert client.get("/api/v1/backup-checks/").status_code == 403


def test_the_checks_list_their_lines_in_a_fixed_number_of_queries(
    setup: BackupSetup, token_client: Callable[..., APIClient]
) -> None:
    backup_checks_create(now=WED_0900)
    backup_checks_create(now=datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    client = token_client("backups:read")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/backup-checks/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    first = body["results"][0]
    assert first["day"] == "2026-11-26"
    assert {line["job"] for r in body["results"] for line in r["lines"]} == {
        "web01-mysql",
        "web01-files",
        "win01-files",
    }
    assert len(queries) <= 6  # token, count, checks, lines (+ savepoints)
    filtered = client.get("/api/v1/backup-checks/", {"group": "windows", "day": "2026-11-25"})
    assert [r["group"] for r in filtered.json()["results"]] == ["windows"]
    assert filtered.json()["results"][0]["lines"][0]["state"] == "missing"
