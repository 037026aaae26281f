"""Enqueueing Celery tasks from services."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Send `task` to the broker once the current transaction has committed, so
    the worker sees the rows it was told about; the same task with the same
    arguments is sent once per transaction, however often a service asks.

    A broker that is down must not undo or fail the user's request: the work is
    already stored (outbox rows, due times) and the beat sweepers pick it up,
    so the error is only logged."""
    key = (task.name, args)
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(func, "enqueue_key", None) == key
        for _sids, func, _robust in connection.run_on_commit
    ):
        return

    def send() -> None:
        try:
            _publish(task, args)
        except Exception:
            logger.warning("could not enqueue %s; a sweeper will pick it up", task.name)

    send.enqueue_key = key  # type: ignore[attr-defined]
    transaction.on_commit(send)


def _publish(task: Any, args: tuple[Any, ...]) -> None:
    """Publish once, failing at once when the broker is down: by default the
    broker connection is retried for seconds, and asking the result backend
    to watch the task retries Redis for some 20 seconds more, all inside the
    user's request. Nobody waits for these tasks' results, so none is kept."""
    with task.app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=0)
        task.apply_async(args=args, retry=False, ignore_result=True, producer=producer)
