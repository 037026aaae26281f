"""Read mail into the service desk: one file, standard input, a Maildir or an
IMAP folder. Every message goes through tickets.mail_in.mail_ingest, which
reads each Message-ID once, so running this again over the same source (or
from cron while a previous run is still busy) creates nothing twice."""

from __future__ import annotations

import argparse
import contextlib
import imaplib
import mailbox
import os
import ssl
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tickets.mail_in import mail_ingest
from tickets.models import InboundMail

# Seconds a silent IMAP server may take before the run gives up, so a run from
# cron cannot hang until the next one starts.
IMAP_TIMEOUT = 60


class Command(BaseCommand):
    help = "Turn inbound mail into tickets and ticket messages."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", metavar="PATH", help="one message (.eml)")
        source.add_argument("--stdin", action="store_true", help="one message on standard input")
        source.add_argument(
            "--maildir",
            metavar="PATH",
            help="every message in new/ and cur/; read ones are moved to cur/ flagged seen",
        )
        source.add_argument("--imap", metavar="HOST", help="the unseen messages of an IMAP folder")
        parser.add_argument("--user", help="IMAP user name")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="environment variable holding the IMAP password (never on the command line)",
        )
        parser.add_argument("--folder", default="INBOX", help="IMAP folder (default INBOX)")
        parser.add_argument(
            "--ssl",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="IMAP over TLS (default; --no-ssl for a plain connection)",
        )
        parser.add_argument(
            "--port", type=int, help="IMAP port (default 993, or 143 with --no-ssl)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.counts: Counter[str] = Counter()
        if options["file"]:
            self._ingest(self._read_file(Path(options["file"])))
        elif options["stdin"]:
            self._ingest(self._read_stdin())
        elif options["maildir"]:
            self._maildir(Path(options["maildir"]))
        else:
            self._imap(options)
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

    @staticmethod
    def _read_file(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error

    @staticmethod
    def _read_stdin() -> bytes:
        # Mail is bytes in any charset: read the binary buffer, not decoded text.
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        if stream is None:
            raise CommandError("There is no standard input")
        try:
            data = stream.read()
        except OSError as error:
            raise CommandError(f"Cannot read standard input: {error}") from error
        return data.encode("utf-8", errors="surrogateescape") if isinstance(data, str) else data

    def _maildir(self, path: Path) -> None:
        if not (path / "new").is_dir() or not (path / "cur").is_dir():
            raise CommandError(f"{path} is not a Maildir (it needs new/ and cur/)")
        try:
            box = mailbox.Maildir(path, factory=None, create=False)
            keys = sorted(box.keys())
            in_cur = {p.name.partition(box.colon)[0]: p for p in (path / "cur").iterdir()}
        except OSError as error:
            raise CommandError(f"Cannot read the Maildir {path}: {error}") from error
        for key in keys:
            try:
                raw = box.get_bytes(key)
            except (KeyError, OSError) as error:
                # Another reader took it meanwhile; it is that reader's message now.
                self.stderr.write(f"{key}: skipped ({error})")
                continue
            self._ingest(raw)
            try:
                self._mark_read(path, key, in_cur.get(key), box.colon)
            except OSError as error:
                self.stderr.write(f"{key}: read but not moved ({error})")

    @staticmethod
    def _mark_read(root: Path, key: str, current: Path | None, colon: str) -> None:
        """Move the message to cur/ with the Seen flag, as a mail client
        would. A rename, because mailbox.Maildir can only move a message by
        writing it anew, which re-serialises (alters) the stored bytes."""
        if current is None:
            os.rename(root / "new" / key, root / "cur" / f"{key}{colon}2,S")
            return
        info = current.name.partition(colon)[2]
        flags = info[2:] if info.startswith("2,") else ""
        if "S" not in flags:
            current.rename(current.with_name(f"{key}{colon}2,{''.join(sorted(flags + 'S'))}"))

    def _imap(self, options: dict[str, Any]) -> None:
        host, user, variable = options["imap"], options["user"], options["password_env"]
        if not user or not variable:
            raise CommandError("--imap needs --user and --password-env")
        password = os.environ.get(variable)
        if password is None:
            raise CommandError(f"The environment variable {variable} is not set")
        port = options["port"] or (993 if options["ssl"] else 143)
        try:
            # imaplib verifies no certificate unless given a context that does.
            connection: imaplib.IMAP4 = (
                imaplib.IMAP4_SSL(
                    host, port, ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT
                )
                if options["ssl"]
                else imaplib.IMAP4(host, port, timeout=IMAP_TIMEOUT)
            )
        except (OSError, imaplib.IMAP4.error) as error:
            raise CommandError(f"Cannot connect to {host}:{port}: {error}") from error
        try:
            self._imap_folder(connection, user, password, options["folder"])
        except (OSError, imaplib.IMAP4.error) as error:
            raise CommandError(f"IMAP {host}: {error}") from error
        finally:
            # A connection that is gone already has nothing left to close.
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                connection.logout()

    def _imap_folder(
        self, connection: imaplib.IMAP4, user: str, password: str, folder: str
    ) -> None:
        connection.login(user, password)
        status, _data = connection.select(folder)
        if status != "OK":
            raise CommandError(f"Cannot open the IMAP folder {folder}")
        for uid in self._unseen(connection):
            raw = self._fetch(connection, uid)
            if raw is None:
                self.stderr.write(f"UID {uid.decode()}: not fetched")
                continue
            self._ingest(raw)
            # Fetched with BODY.PEEK, so only a message that was read into
            # the desk is marked seen; one interrupted run leaves it unseen.
            connection.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")

    @staticmethod
    def _unseen(connection: imaplib.IMAP4) -> Iterator[bytes]:
        status, data = connection.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise CommandError("IMAP search for unseen messages failed")
        for chunk in data:
            if isinstance(chunk, bytes):
                yield from chunk.split()

    @staticmethod
    def _fetch(connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
        status, data = connection.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        if status != "OK":
            return None
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None
