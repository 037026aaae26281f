"""manage.py restore_data PATH --database-url URL: a dump of dump_data_safely
into a new, empty database (docs/deployment.md, "Backups of the service desk
itself")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicedesk.lib.dumps import Database, DumpError, report, restore


class Command(BaseCommand):
    help = (
        "Restore a dump of dump_data_safely into an empty database (a database with "
        "tables is refused): pg_restore in one transaction, or a SQLite copy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the dump file")
        parser.add_argument(
            "--database-url",
            help="the empty database to restore into (default: the one DATABASE_URL configures)",
        )
        parser.add_argument("--pg-bin", help="directory of pg_restore, when it is not on PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            database = Database.chosen(options["database_url"])
            result = restore(database, Path(options["path"]), pg_bin=options["pg_bin"])
        except DumpError as error:
            raise CommandError(str(error)) from None
        for line in report(result, f"Restored {result.path} into {database.label}"):
            self.stdout.write(line)
