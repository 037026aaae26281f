from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from celery import Celery
from django.db import connection, transaction

from events.tasks import send_notifications
from servicedesk.celery import BEAT_SCHEDULE, app
from servicedesk.lib.tasks import enqueue_on_commit
from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_every_beat_entry_expires_and_names_a_registered_task() -> None:
    app.loader.import_default_modules()
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["options"]["expires"] > 0, name  # type: ignore[index]
        assert entry["task"] in app.tasks, name


def test_tasks_travel_as_json_and_are_acknowledged_late() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_a_task_is_sent_once_per_transaction_and_only_after_commit(
    db: None,
    django_capture_on_commit_callbacks,
) -> None:
    with (
        mock.patch.object(send_notifications, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        enqueue_on_commit(send_notifications)
        enqueue_on_commit(send_notifications)
        assert apply_async.call_count == 0
    assert len(callbacks) == 1
    assert apply_async.call_count == 1


def test_a_broker_that_is_down_does_not_fail_the_request(
    db: None, django_capture_on_commit_callbacks, caplog: pytest.LogCaptureFixture
) -> None:
    down = ConnectionError("down")
    with (
        mock.patch.object(send_notifications, "apply_async", side_effect=down),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        enqueue_on_commit(send_notifications)
    assert "could not enqueue events.send_notifications" in caplog.text


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[Celery, str, Path, dict[str, str]]]:
    """A real Celery worker on Redis, on a queue of its own so nothing else
    feeds it; yields a client app, the queue and the worker's environment."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": TEST_REDIS_URL,
        "VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Celery(broker=TEST_REDIS_URL, backend=TEST_REDIS_URL)
    client.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json")
    try:
        yield client, queue, tmp_path, env
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.mark.redis
@pytest.mark.worker
def test_a_task_round_trips_through_a_real_worker_on_redis(worker) -> None:
    client, queue, tmp_path, _env = worker
    result = client.send_task("servicedesk.ping", args=["hello"], queue=queue)
    try:
        answer = result.get(timeout=60)
    except Exception:
        print((tmp_path / "worker.log").read_text())
        raise
    assert answer["payload"] == "hello"
    assert answer["worker"]


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_outbox_once(worker) -> None:
    from tests.base import make_personas
    from tickets.task_services import task_close, task_create

    client, queue, tmp_path, _env = worker
    personas = make_personas()
    task = task_create(title="Worker mail", assignee=personas.jr, actor=personas.head, now=NOW)
    task_close(task=task, actor=personas.jr, now=NOW, remark="via the worker")
    first = client.send_task("events.send_notifications", queue=queue).get(timeout=60)
    second = client.send_task("events.send_notifications", queue=queue).get(timeout=60)
    assert first == {"written": 2, "sent": 2}
    assert second == {"written": 0, "sent": 0}
    mails = [p.read_text() for p in (tmp_path / "mail").iterdir()]
    assert len(mails) == 2
    assert any("via the worker" in text for text in mails)
