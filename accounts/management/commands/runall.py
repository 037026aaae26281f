"""`make run`: the web server, a Celery worker and Celery beat in one terminal.
Ctrl-C (or SIGTERM) stops all three and waits for them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from accounts.management.commands.loaddemo import CUSTOMER_USERS, STAFF


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # One worker process on SQLite: a single writer avoids lock waits.
        concurrency = "1" if embedded else "2"
        commands = {
            "web": [python, "manage.py", "runserver", f"{options['host']}:{options['port']}"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "servicedesk",
                "worker",
                "-l",
                "INFO",
                "--concurrency",
                concurrency,
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "servicedesk",
                "beat",
                "-l",
                "INFO",
                "-s",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self._banner(options["host"], options["port"], embedded)
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop(processes)

    def _stop(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it.")
                process.kill()
                process.wait()
        self.stdout.write("Stopped web, worker and beat.")

    def _banner(self, host: str, port: int, embedded: bool) -> None:
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        logins = ", ".join([name for name, *_ in STAFF] + [name for name, *_ in CUSTOMER_USERS])
        lines = [
            "",
            f"  Servicedesk runs at http://{shown}:{port}/",
            f"  Logins: {logins}, admin",
            f"  Password for all of them: {settings.DEMO_PASSWORD}",
            "  Database: "
            + ("embedded SQLite (var/)" if embedded else "PostgreSQL from DATABASE_URL"),
            "  Broker: "
            + ("Redis from REDIS_URL" if settings.REDIS_URL else "embedded (var/celery)"),
            "  Stop with Ctrl-C.",
            "",
        ]
        self.stdout.write("\n".join(lines))
