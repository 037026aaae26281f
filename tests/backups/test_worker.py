"""The daily check through a real Celery worker on Redis and Postgres."""

from __future__ import annotations

import pytest

from backups.models import BackupCheck
from tests.backups.factories import make_backup_setup
from tests.base import make_personas
from tests.servicedesk.test_celery import worker  # noqa: F401  (fixture)
from tickets.models import Task


@pytest.fixture
def checks_from_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs at the real time of day; with the check hour at 00:00
    the day's checks are due whenever the suite runs."""
    monkeypatch.setenv("BACKUP_CHECK_HOUR", "0")


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_creates_todays_checks_once(
    checks_from_midnight: None,
    worker,  # noqa: F811
) -> None:
    client, queue, tmp_path, _env = worker
    make_backup_setup(make_personas())
    try:
        first = client.send_task("backups.create_daily_checks", queue=queue).get(timeout=60)
        second = client.send_task("backups.create_daily_checks", queue=queue).get(timeout=60)
    except Exception:
        print((tmp_path / "worker.log").read_text())
        raise
    assert first["created"] == 2
    assert second["created"] == 0
    assert BackupCheck.objects.count() == 2
    assert Task.objects.count() == 2
