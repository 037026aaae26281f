"""Running work in parallel transactions, for the race tests on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(work: Callable[[int], object], threads: int) -> tuple[int, list[BaseException]]:
    """Run `work(n)` in `threads` threads released at once, each on its own
    database connection; count the ones that succeeded and collect what the
    others raised."""
    barrier = threading.Barrier(threads)
    done: list[int] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
            done.append(n)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(done), errors
