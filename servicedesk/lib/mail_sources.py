"""Where inbound mail comes from: one file, standard input, a Maildir, an mbox
file or the unseen messages of an IMAP folder. Shared by the commands that read
mail (tickets' ingest_mail, backups' ingest_backup_mail); what a message
becomes is theirs to decide.

Every source is a generator of SourceMail: the raw bytes as stored (never
re-serialised), a label that says where the message was, and `acknowledge`,
which the reader calls once the message has been dealt with: a Maildir message
then moves to cur/ flagged seen, an IMAP message is flagged seen. A message
that is never acknowledged (the run broke off while reading it) stays unread
for the next run. A file, standard input and an mbox are only read.

A source that cannot be read at all raises MailSourceError; a single message
that cannot be taken or marked is passed to `warn` and skipped."""

from __future__ import annotations

import argparse
import contextlib
import imaplib
import mailbox
import os
import ssl
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

# Seconds a silent IMAP server may take before the run gives up, so a run from
# cron cannot hang until the next one starts.
IMAP_TIMEOUT = 60

Warn = Callable[[str], None]
Messages = Generator["SourceMail", None, None]


class MailSourceError(Exception):
    """The source cannot be read: a missing file, no Maildir, a refused login."""


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class SourceMail:
    label: str
    raw: bytes
    acknowledge: Callable[[], None] = _nothing


# --- One message ----------------------------------------------------------------


def file_messages(path: Path) -> Messages:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MailSourceError(f"Cannot read {path}: {error}") from error
    yield SourceMail(str(path), raw)


def stdin_messages() -> Messages:
    # Mail is bytes in any charset: read the binary buffer, not decoded text.
    # sys.stdin is looked up now, not at import, so a replaced stdin is read.
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    if stream is None:
        raise MailSourceError("There is no standard input")
    try:
        data = stream.read()
    except OSError as error:
        raise MailSourceError(f"Cannot read standard input: {error}") from error
    raw = data.encode("utf-8", errors="surrogateescape") if isinstance(data, str) else data
    yield SourceMail("stdin", raw)


# --- Mailboxes on disk ----------------------------------------------------------


def maildir_messages(path: Path, *, warn: Warn, unseen_only: bool = False) -> Messages:
    """Every message in new/ and cur/, or with `unseen_only` those not yet
    flagged seen. Acknowledging moves a message to cur/ flagged seen."""
    if not (path / "new").is_dir() or not (path / "cur").is_dir():
        raise MailSourceError(f"{path} is not a Maildir (it needs new/ and cur/)")
    try:
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.keys())
        in_cur = {p.name.partition(box.colon)[0]: p for p in (path / "cur").iterdir()}
    except OSError as error:
        raise MailSourceError(f"Cannot read the Maildir {path}: {error}") from error
    for key in keys:
        current = in_cur.get(key)
        if unseen_only and current is not None and "S" in _maildir_flags(current, box.colon):
            continue
        try:
            raw = box.get_bytes(key)
        except (KeyError, OSError) as error:
            # Another reader took it meanwhile; it is that reader's message now.
            warn(f"{key}: skipped ({error})")
            continue
        acknowledge = partial(_maildir_acknowledge, path, key, current, box.colon, warn)
        yield SourceMail(key, raw, acknowledge)


def _maildir_flags(current: Path, colon: str) -> str:
    info = current.name.partition(colon)[2]
    return info[2:] if info.startswith("2,") else ""


def _maildir_acknowledge(
    root: Path, key: str, current: Path | None, colon: str, warn: Warn
) -> None:
    try:
        _maildir_mark_read(root, key, current, colon)
    except OSError as error:
        warn(f"{key}: read but not moved ({error})")


def _maildir_mark_read(root: Path, key: str, current: Path | None, colon: str) -> None:
    """Move the message to cur/ with the Seen flag, as a mail client would.
    A rename, because mailbox.Maildir can only move a message by writing it
    anew, which re-serialises (alters) the stored bytes."""
    if current is None:
        os.rename(root / "new" / key, root / "cur" / f"{key}{colon}2,S")
        return
    flags = _maildir_flags(current, colon)
    if "S" not in flags:
        current.rename(current.with_name(f"{key}{colon}2,{''.join(sorted(flags + 'S'))}"))


def mbox_messages(path: Path, *, warn: Warn) -> Messages:
    """Every message of an mbox file, in order, each time. The file is only
    read: rewriting an mbox races the mail server that appends to it, so
    nothing is marked and a second run reads the same messages again."""
    if not path.is_file():
        raise MailSourceError(f"{path} is not an mbox file")
    try:
        box = mailbox.mbox(path, factory=None, create=False)
        keys = list(box.keys())
    except (OSError, mailbox.Error) as error:
        raise MailSourceError(f"Cannot read the mbox {path}: {error}") from error
    try:
        for number, key in enumerate(keys, start=1):
            try:
                raw = box.get_bytes(key)
            except (KeyError, OSError) as error:
                warn(f"{path}#{number}: skipped ({error})")
                continue
            yield SourceMail(f"{path}#{number}", raw)
    finally:
        box.close()


# --- IMAP -----------------------------------------------------------------------


def imap_messages(
    *,
    host: str,
    user: str,
    password: str,
    folder: str = "INBOX",
    use_ssl: bool = True,
    port: int | None = None,
    warn: Warn,
    timeout: int = IMAP_TIMEOUT,
) -> Messages:
    """The unseen messages of an IMAP folder. They are fetched with BODY.PEEK,
    so only an acknowledged message is flagged seen; one interrupted run
    leaves the rest unseen."""
    port = port or (993 if use_ssl else 143)
    try:
        # imaplib verifies no certificate unless given a context that does.
        connection: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)
            if use_ssl
            else imaplib.IMAP4(host, port, timeout=timeout)
        )
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailSourceError(f"Cannot connect to {host}:{port}: {error}") from error
    try:
        with _imap_errors(host):
            connection.login(user, password)
            status, _data = connection.select(folder)
            if status != "OK":
                raise MailSourceError(f"Cannot open the IMAP folder {folder}")
            uids = list(_imap_unseen(connection))
        for uid in uids:
            with _imap_errors(host):
                raw = _imap_fetch(connection, uid)
            if raw is None:
                warn(f"UID {uid.decode()}: not fetched")
                continue
            yield SourceMail(f"UID {uid.decode()}", raw, partial(_imap_seen, connection, uid, host))
    finally:
        # A connection that is gone already has nothing left to close.
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()


@contextlib.contextmanager
def _imap_errors(host: str) -> Iterator[None]:
    try:
        yield
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailSourceError(f"IMAP {host}: {error}") from error


def _imap_unseen(connection: imaplib.IMAP4) -> Iterator[bytes]:
    status, data = connection.uid("SEARCH", "UNSEEN")
    if status != "OK":
        raise MailSourceError("IMAP search for unseen messages failed")
    for chunk in data:
        if isinstance(chunk, bytes):
            yield from chunk.split()


def _imap_fetch(connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
    status, data = connection.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _imap_seen(connection: imaplib.IMAP4, uid: bytes, host: str) -> None:
    with _imap_errors(host):
        connection.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")


# --- Command-line options -------------------------------------------------------


def add_source_arguments(
    parser: argparse.ArgumentParser, *, maildir_help: str, mbox: bool = False
) -> None:
    """The source options, one of which is required: --file, --stdin,
    --maildir, (--mbox,) --imap with its connection options."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", metavar="PATH", help="one message (.eml)")
    source.add_argument("--stdin", action="store_true", help="one message on standard input")
    source.add_argument("--maildir", metavar="PATH", help=maildir_help)
    if mbox:
        source.add_argument(
            "--mbox", metavar="PATH", help="every message of an mbox file (only read, never marked)"
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
    parser.add_argument("--port", type=int, help="IMAP port (default 993, or 143 with --no-ssl)")


def messages_from_options(
    options: dict[str, Any], *, warn: Warn, maildir_unseen_only: bool = False
) -> Messages:
    """The source the options of add_source_arguments name. Options that do not
    fit raise MailSourceError now; the source itself is opened on the first
    message asked for."""
    if options.get("file"):
        return file_messages(Path(options["file"]))
    if options.get("stdin"):
        return stdin_messages()
    if options.get("maildir"):
        return maildir_messages(
            Path(options["maildir"]), warn=warn, unseen_only=maildir_unseen_only
        )
    if options.get("mbox"):
        return mbox_messages(Path(options["mbox"]), warn=warn)
    host, user, variable = options.get("imap"), options.get("user"), options.get("password_env")
    if not host:
        raise MailSourceError("Name a source: --file, --stdin, --maildir or --imap")
    if not user or not variable:
        raise MailSourceError("--imap needs --user and --password-env")
    password = os.environ.get(variable)
    if password is None:
        raise MailSourceError(f"The environment variable {variable} is not set")
    return imap_messages(
        host=host,
        user=user,
        password=password,
        folder=options.get("folder") or "INBOX",
        use_ssl=options.get("ssl", True),
        port=options.get("port"),
        warn=warn,
    )
