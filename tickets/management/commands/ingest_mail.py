"""Read mail into the service desk: one file, standard input, a Maildir or an
IMAP folder (servicedesk.lib.mail_sources reads them). Every message goes
through tickets.mail_in.mail_ingest, which reads each Message-ID once, so
running this again over the same source (or from cron while a previous run is
still busy) creates nothing twice."""

from __future__ import annotations

import contextlib

# Not used here since the sources moved to servicedesk.lib.mail_sources, but
# kept importable as ingest_mail.imaplib: the tests replace the IMAP client
# through it (it is the same module object the sources use).
import imaplib  # noqa: F401
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from servicedesk.lib.mail_sources import (
    MailSourceError,
    add_source_arguments,
    messages_from_options,
)
from tickets.mail_in import mail_ingest
from tickets.models import InboundMail


class Command(BaseCommand):
    help = "Turn inbound mail into tickets and ticket messages."

    def add_arguments(self, parser: CommandParser) -> None:
        add_source_arguments(
            parser,
            maildir_help="every message in new/ and cur/; read ones are moved to cur/ flagged seen",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.counts: Counter[str] = Counter()
        try:
            messages = messages_from_options(options, warn=self.stderr.write)
            with contextlib.closing(messages):
                for message in messages:
                    self._ingest(message.raw)
                    # Every mail ends as a row (a ticket, an ignored or a
                    # quarantined mail), so each one read is marked read.
                    message.acknowledge()
        except MailSourceError as error:
            raise CommandError(str(error)) from error
        total = sum(self.counts.values())
        parts = ", ".join(f"{count} {status}" for status, count in sorted(self.counts.items()))
        self.stdout.write(f"{total} message(s){': ' + parts if parts else ''}")

    def _ingest(self, raw: bytes) -> InboundMail:
        inbound = mail_ingest(raw=raw, now=timezone.now())
        number = inbound.ticket.number if inbound.ticket else "-"
        line = f"{inbound.message_id} {inbound.status} {number}"
        if inbound.reason:
            line += f" ({inbound.reason})"
        self.stdout.write(line)
        self.counts[inbound.status] += 1
        return inbound
