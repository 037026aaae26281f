"""manage.py dump_data_safely [PATH]: a consistent dump of the service desk's
own database (docs/deployment.md, "Backups of the service desk itself")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from servicedesk.lib.dumps import Database, DumpError, dump, report


class Command(BaseCommand):
    help = (
        "Dump the database consistently: PostgreSQL with pg_dump --format=custom, "
        "SQLite with its backup API. Written to a temporary name, mode 0600, and "
        "renamed into place only when complete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            help="where to write the dump (default: VAR_DIR/dumps/servicedesk-<time>.dump); "
            "an existing file is never overwritten",
        )
        parser.add_argument(
            "--database-url", help="the database to dump (default: the one DATABASE_URL configures)"
        )
        parser.add_argument("--pg-bin", help="directory of pg_dump, when it is not on PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            database = Database.chosen(options["database_url"])
            path = Path(options["path"] or self.default_path(database))
            result = dump(database, path.resolve(), pg_bin=options["pg_bin"])
        except DumpError as error:
            raise CommandError(str(error)) from None
        kind = "PostgreSQL custom format" if database.engine == "postgresql" else "SQLite"
        for line in report(result, f"Dumped {database.label} to {result.path}, {kind}"):
            self.stdout.write(line)

    @staticmethod
    def default_path(database: Database) -> Path:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        suffix = "dump" if database.engine == "postgresql" else "sqlite3"
        return Path(settings.VAR_DIR) / "dumps" / f"servicedesk-{stamp}.{suffix}"
