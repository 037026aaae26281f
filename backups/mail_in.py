"""Backup runs the backup script reports by mail, stored through the same
service as its API reports (backup_run_report, source "mail").

The format: one mail per run.

    From: backup-script@backup3.example.nl
    Subject: [backup] web01-mysql FAILED

    Job: web01-mysql
    Status: failed
    Started: 2026-11-25 01:00:04 +0100
    Finished: 2026-11-25 03:12:40 +0100
    Size: 12.4 GB

    mysqldump: Got error: 2013: Lost connection to MySQL server during query

- The body has `Key: value` lines, one after the other, normally at the top.
  The keys are Job, Status, Started, Finished and Size, in any order and any
  case; each at most once. The first line that is not one of them ends them
  (a blank line, normally) and starts the message: free text, kept up to
  10,000 characters as in the API. Text before them (an HTML mail's heading)
  is kept at the start of the message. Lines quoted with ">" at the very end
  are dropped as quoted history (parse_mail's rule for replies).
- Job: the job's reference (BackupJob.reference). Required.
- Status: success or ok; warning or warn; failed, failure or error (any case).
  Required.
- Started: required; Finished: optional, not before Started. ISO 8601
  (2026-11-25T01:00:04+01:00, ...Z) or `YYYY-MM-DD HH:MM[:SS] [+HHMM]` (the
  offset also as +HH:MM or Z). Without an offset the time is Europe/Amsterdam
  wall time; in the hour the clocks go back it is read as the first (summer
  time) one, and a time the clocks skip is refused. Send an offset to be exact.
  A time before 2000 or from 2100 on is refused as garbage.
- Size: optional; a whole number of bytes, or a number with a unit B (bytes), KB, MB,
  GB or TB (KiB ... TiB too), 1024-based: 1 KB = 1024 bytes, 12.4 GB =
  12.4 x 1024^3 bytes.
- When the body names no Job or no Status, the subject
  `[backup] <job> <STATUS>` supplies them ("Re:" or "Fwd:" subjects do not:
  a reply is no report).

Decoding (quoted-printable, base64, charsets, HTML-only, multipart) is
tickets.mail_in.parse_mail's. Auto-replies and bounces are ignored; the
`Auto-Submitted: auto-generated` that RFC 3834 asks of every script mail is
not by itself a reason to ignore one.

Reports are idempotent: the same job and start again (by mail or through the
API) update the one run. A mail that cannot be stored (unknown job, a missing
field, a bad date, a finish before the start) stores nothing and gives an
error result with the reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.core.exceptions import ValidationError

from backups.models import BackupJob, BackupRun, RunSource, RunStatus
from backups.schedule import AMSTERDAM
from backups.services import backup_run_report
from tickets.mail_in import ParsedMail, parse_mail

MESSAGE_MAX = 10_000  # as the API's message field
SIZE_MAX = 2**63 - 1  # BackupRun.size_bytes is a bigint
# As the API's times (servicedesk.api.MomentField): outside them a time is a
# typo or garbage, and before 1940 Amsterdam's offset had seconds in it.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

STATUSES: dict[str, str] = {
    "success": RunStatus.SUCCESS.value,
    "ok": RunStatus.SUCCESS.value,
    "warning": RunStatus.WARNING.value,
    "warn": RunStatus.WARNING.value,
    "failed": RunStatus.FAILED.value,
    "failure": RunStatus.FAILED.value,
    "error": RunStatus.FAILED.value,
}
KEYS = ("job", "status", "started", "finished", "size")
UNITS = {
    "": 1,
    "b": 1,
    "bytes": 1,
    "kb": 1024,
    "kib": 1024,
    "mb": 1024**2,
    "mib": 1024**2,
    "gb": 1024**3,
    "gib": 1024**3,
    "tb": 1024**4,
    "tib": 1024**4,
}

_KEY_LINE = re.compile(r"^\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")
_SUBJECT = re.compile(r"^\s*\[backup\]\s+(\S+)\s+(\S+)\s*$", re.IGNORECASE)
_MOMENT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]*)$", re.IGNORECASE)


class BackupMailError(ValueError):
    """The mail is no storable backup report; the message says why. The job
    and status are filled in when the mail named them."""

    def __init__(self, reason: str, *, job: str = "", status: str = "") -> None:
        super().__init__(reason)
        self.job = job
        self.status = status


class BackupMailIgnored(BackupMailError):
    """An auto-reply or a bounce: no report, and nothing wrong either."""


@dataclass(frozen=True)
class BackupReport:
    job: str  # the job's reference as the mail names it
    status: str  # a RunStatus value
    started_at: datetime
    finished_at: datetime | None
    size_bytes: int | None
    message: str


# --- Parsing --------------------------------------------------------------------


def parse_backup_mail(raw: bytes) -> BackupReport:
    """The report in a raw mail. Pure: no database. Raises BackupMailIgnored
    for an auto-reply or bounce, BackupMailError for anything else that is no
    complete report."""
    try:
        parsed = parse_mail(raw)
    except Exception as error:  # the parser is lenient; whatever it still refuses is unreadable
        raise BackupMailError(f"unreadable mail: {error}") from error
    ignore = _ignore_reason(parsed)
    if ignore:
        raise BackupMailIgnored(ignore)
    return report_of(parsed)


# RFC 3834 asks every automatic mail to say "Auto-Submitted: auto-generated",
# and some scripts mark their mail bulk; a backup script's report is both, so
# these alone are no reason to ignore it. Replies (vacation notices) and
# bounces are.
_GENERATED = ("Auto-Submitted: auto-generated", "Precedence: bulk", "Precedence: junk")
_DAEMONS = {"mailer-daemon", "postmaster"}
_REPORT_PARTS = {"message/delivery-status", "message/disposition-notification"}


def _ignore_reason(parsed: ParsedMail) -> str:
    if not parsed.is_auto_reply:
        return ""
    if not parsed.auto_reply_reason.startswith(_GENERATED):
        return parsed.auto_reply_reason
    # parse_mail names only the first sign it finds; a bounce that also says
    # auto-generated (sendmail's do) still comes from the mailer daemon.
    if parsed.sender_address.split("@")[0].lower() in _DAEMONS:
        return f"sent by {parsed.sender_address}"
    if any(part.content_type in _REPORT_PARTS for part in parsed.attachments):
        return "delivery report"
    return ""


def report_of(parsed: ParsedMail) -> BackupReport:
    """The report in an already parsed mail."""
    fields, message = _split_body(parsed.body)
    subject = _SUBJECT.match(parsed.subject)
    job = fields.get("job") or (subject.group(1) if subject else "")
    status_word = fields.get("status") or (subject.group(2) if subject else "")
    if not job:
        raise BackupMailError("no Job line, and no job in the subject '[backup] <job> <STATUS>'")
    if not status_word:
        raise BackupMailError(
            "no Status line, and no status in the subject '[backup] <job> <STATUS>'", job=job
        )
    status = STATUSES.get(status_word.lower())
    if status is None:
        raise BackupMailError(
            f"unknown Status '{status_word}' (success/ok, warning/warn, failed/failure/error)",
            job=job,
        )
    if not fields.get("started"):
        raise BackupMailError("no Started line", job=job, status=status)
    try:
        started_at = parse_moment(fields["started"])
        finished_at = parse_moment(fields["finished"]) if fields.get("finished") else None
        size_bytes = parse_size(fields["size"]) if fields.get("size") else None
    except ValueError as error:
        raise BackupMailError(str(error), job=job, status=status) from error
    if finished_at is not None and finished_at < started_at:
        raise BackupMailError(
            f"Finished {fields['finished']} is before Started {fields['started']}",
            job=job,
            status=status,
        )
    return BackupReport(
        job=job,
        status=status,
        started_at=started_at,
        finished_at=finished_at,
        size_bytes=size_bytes,
        message=_truncate(message),
    )


def _split_body(body: str) -> tuple[dict[str, str], str]:
    """The first run of known `Key: value` lines in the body, and the message:
    the text after them, after any text before them (an HTML mail's heading)."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    start = next((i for i, line in enumerate(lines) if _key_of(line)), len(lines))
    fields: dict[str, str] = {}
    end = start
    while end < len(lines) and (key := _key_of(lines[end])):
        if key[0] in fields:
            raise BackupMailError(f"{key[1]} is given twice")
        fields[key[0]] = key[2]
        end += 1
    before, after = "\n".join(lines[:start]).strip(), "\n".join(lines[end:]).strip()
    return fields, "\n\n".join(part for part in (before, after) if part)


def _key_of(line: str) -> tuple[str, str, str] | None:
    """(key, the key as written, value) of a known key line, else None."""
    match = _KEY_LINE.match(line)
    if match is None or match.group(1).lower() not in KEYS:
        return None
    return match.group(1).lower(), match.group(1), match.group(2)


def _truncate(message: str) -> str:
    if len(message) <= MESSAGE_MAX:
        return message
    note = "\n[… cut at 10,000 characters]"
    return message[: MESSAGE_MAX - len(note)] + note


def parse_moment(text: str) -> datetime:
    """A UTC datetime from ISO 8601 or `YYYY-MM-DD HH:MM[:SS] [+HHMM]`;
    without an offset, Europe/Amsterdam wall time."""
    match = _MOMENT.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is no date and time (use YYYY-MM-DD HH:MM[:SS] [+HHMM])")
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0").ljust(6, "0"))
    offset = match.group(8)
    try:
        if offset is None:
            moment = _amsterdam(datetime(year, month, day, hour, minute, second, micro), text)
        else:
            moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=_zone(offset))
    except ValueError as error:
        raise ValueError(f"'{text}' is no valid date and time ({error})") from error
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"'{text}' is not between 2000 and 2100")
    # In UTC: an Amsterdam time in the repeated October hour never compares
    # equal to the same instant in another zone (PEP 495), which would make
    # "the same start again" depend on how the start was written.
    return moment.astimezone(UTC)


def _zone(offset: str) -> timezone:
    if offset.upper() == "Z":
        return UTC
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        raise ValueError(f"offset {offset} out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset.startswith("-") else delta)


def _amsterdam(wall: datetime, text: str) -> datetime:
    # fold=0 picks the first of the two hours when the clocks go back (summer
    # time). A time the clocks skip in spring does not survive the round trip
    # through UTC, so it is refused rather than silently shifted an hour.
    local = wall.replace(tzinfo=AMSTERDAM)
    if local.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None) != wall:
        raise ValueError(f"'{text}' does not exist in Europe/Amsterdam (the clocks skip it)")
    return local


def parse_size(text: str) -> int:
    """Bytes from `1234`, `1234 B` or a number with KB, MB, GB or TB (1024-based)."""
    match = _SIZE.match(text.strip())
    factor = UNITS.get(match.group(2).lower()) if match else None
    if match is None or factor is None:
        raise ValueError(f"Size '{text}' is no size (bytes, or a number with B/KB/MB/GB/TB)")
    number = Decimal(match.group(1))
    if factor == 1 and number != number.to_integral_value():
        raise ValueError(f"Size '{text}' is no whole number of bytes")
    size = int((number * factor).to_integral_value(rounding=ROUND_HALF_UP))
    if size > SIZE_MAX:
        raise ValueError(f"Size '{text}' is too large")
    return size


# --- Ingesting ------------------------------------------------------------------


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    IGNORED = "ignored"
    ERROR = "error"


@dataclass(frozen=True)
class BackupMailResult:
    outcome: Outcome
    job: str = ""
    status: str = ""
    reason: str = ""
    run: BackupRun | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == Outcome.ERROR


def backup_mail_ingest(*, raw: bytes, now: datetime) -> BackupMailResult:
    """Store the run one raw mail reports, for the job it names, as a report
    with source "mail". A mail that is no report gives an ignored or error
    result with the reason and stores nothing."""
    try:
        report = parse_backup_mail(raw)
    except BackupMailIgnored as ignored:
        return BackupMailResult(Outcome.IGNORED, reason=str(ignored))
    except BackupMailError as error:
        return BackupMailResult(
            Outcome.ERROR, job=error.job, status=error.status, reason=str(error)
        )
    job = BackupJob.objects.filter(reference=report.job).first()
    if job is None:
        return BackupMailResult(
            Outcome.ERROR,
            job=report.job,
            status=report.status,
            reason=f"unknown backup job '{report.job}'",
        )
    try:
        # One transaction (the service's): a refused report leaves no run.
        run, created = backup_run_report(
            job=job,
            status=report.status,
            started_at=report.started_at,
            finished_at=report.finished_at,
            size_bytes=report.size_bytes,
            message=report.message,
            source=RunSource.MAIL,
            now=now,
        )
    except ValidationError as error:
        return BackupMailResult(
            Outcome.ERROR, job=report.job, status=report.status, reason="; ".join(error.messages)
        )
    return BackupMailResult(
        Outcome.CREATED if created else Outcome.UPDATED,
        job=job.reference,
        status=run.status,
        run=run,
    )
