"""Store the backup runs the backup script mailed: one file, standard input, a
Maildir, an mbox file or an IMAP folder (servicedesk.lib.mail_sources reads
them; backups.mail_in describes the mail format). One line per message, then a
total; the exit status is 1 when any message failed, so cron reports it, and
the other messages are stored all the same."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backups.mail_in import BackupMailResult, Outcome, backup_mail_ingest
from servicedesk.lib.mail_sources import (
    MailSourceError,
    SourceMail,
    add_source_arguments,
    messages_from_options,
)

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Store the backup runs reported by the backup script's mails."

    def add_arguments(self, parser: CommandParser) -> None:
        add_source_arguments(
            parser,
            mbox=True,
            maildir_help="the messages in new/ and cur/ not yet flagged seen; "
            "each read is moved to cur/ flagged seen",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts: Counter[str] = Counter()
        broken: MailSourceError | None = None
        try:
            # A Maildir keeps what was read; reading it again would replay old
            # reports over newer ones and repeat old errors on every run.
            messages = messages_from_options(
                options, warn=self.stderr.write, maildir_unseen_only=True
            )
            with contextlib.closing(messages):
                for message in messages:
                    counts[self._ingest(message)] += 1
        except MailSourceError as error:
            broken = error
        total = sum(counts.values())
        parts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        self.stdout.write(f"{total} message(s){': ' + parts if parts else ''}")
        if broken is not None:
            raise CommandError(str(broken))
        if counts[Outcome.ERROR]:
            raise CommandError(
                f"{counts[Outcome.ERROR]} of {total} message(s) failed", returncode=1
            )

    def _ingest(self, message: SourceMail) -> str:
        try:
            result = backup_mail_ingest(raw=message.raw, now=timezone.now())
        except Exception as error:  # the database, say; one mail must not stop the run
            logger.exception("backup mail %s not stored", message.label)
            # Not acknowledged: the next run tries it again.
            self.stdout.write(f"- - error ({type(error).__name__}: {error}) [{message.label}]")
            return Outcome.ERROR
        self.stdout.write(self._line(result, message.label))
        message.acknowledge()
        return result.outcome

    @staticmethod
    def _line(result: BackupMailResult, label: str) -> str:
        line = f"{result.job or '-'} {result.status or '-'} {result.outcome}"
        if result.reason:
            line += f" ({result.reason}) [{label}]"
        return line
