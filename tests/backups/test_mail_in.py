"""Backup runs reported by mail: parsing the sample mails (tests/backups/mails/),
storing them through backup_run_report with source "mail", and the
ingest_backup_mail command over each of its sources."""

from __future__ import annotations

import io
import mailbox
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from rest_framework.test import APIClient

from backups import mail_in
from backups.mail_in import (
    MESSAGE_MAX,
    BackupMailError,
    BackupMailIgnored,
    Outcome,
    backup_mail_ingest,
    parse_backup_mail,
    parse_moment,
    parse_size,
)
from backups.models import BackupCheck, BackupRun, RunSource
from backups.services import backup_checks_create
from servicedesk.lib import mail_sources
from tests.backups.factories import BackupSetup, make_backup_setup
from tests.backups.test_daily_check import WED_0900
from tests.base import Personas
from tests.tickets.test_mail_in import FakeImap

MAILS = Path(__file__).parent / "mails"
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
GOOD = [
    "success-plain.eml",
    "failed-message.eml",
    "warning-qp-dutch.eml",
    "html-base64.eml",
    "multipart-alternative.eml",
    "subject-only.eml",
]
BAD = ["unknown-job.eml", "missing-status.eml", "malformed-date.eml", "finish-before-start.eml"]
IGNORED = ["auto-reply.eml", "bounce.eml"]


def sample(name: str) -> bytes:
    return (MAILS / name).read_bytes()


def mail(body: str, subject: str = "[backup] report") -> bytes:
    head = f"From: backup-script@backup3.example.nl\nSubject: {subject}\n"
    return (head + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()


@pytest.fixture
def setup(personas: Personas) -> BackupSetup:
    return make_backup_setup(personas)


# --- Parsing the samples ----------------------------------------------------------


def test_it_reads_a_plain_success_mail() -> None:
    # The mail says Auto-Submitted: auto-generated, as RFC 3834 asks of
    # script mail; that alone does not make it an auto-reply.
    report = parse_backup_mail(sample("success-plain.eml"))
    assert (report.job, report.status) == ("web01-files", "success")
    assert report.started_at == datetime(2026, 11, 24, 23, 0, 2, tzinfo=CET)
    assert report.finished_at == datetime(2026, 11, 25, 1, 47, 10, tzinfo=CET)
    assert report.size_bytes == 1536 * 1024**2
    assert report.message == "rsync completed: 18,204 files, 1.5 GB transferred."


def test_it_reads_a_failed_run_with_its_message() -> None:
    report = parse_backup_mail(sample("failed-message.eml"))
    assert (report.job, report.status) == ("web01-mysql", "failed")
    assert report.started_at == datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC)
    assert report.finished_at == datetime(2026, 11, 25, 2, 12, 40, tzinfo=UTC)
    assert report.size_bytes == round(12.4 * 1024**3)
    assert report.message == (
        "mysqldump: Got error: 2013: Lost connection to MySQL server during query\n"
        "when dumping table `orders` at row: 1873221"
    )


def test_it_decodes_a_quoted_printable_warning_with_dutch_characters() -> None:
    report = parse_backup_mail(sample("warning-qp-dutch.eml"))
    assert (report.job, report.status) == ("win01-files", "warning")
    assert report.size_bytes == int(68.25 * 1024**3)
    assert "Financiële overzichten\\Één keer per jaar" in report.message
    assert "is niet geïndexeerd" in report.message  # a soft line break joined again
    assert "privé-bestanden van gebruiker Jänsen" in report.message
    assert report.message.endswith('map "Coördinatie" vóór de volgende run.')


def test_it_reads_a_base64_html_only_mail() -> None:
    report = parse_backup_mail(sample("html-base64.eml"))
    assert (report.job, report.status) == ("web01-files", "success")
    assert report.started_at == datetime(2026, 11, 24, 22, 0, 1, tzinfo=UTC)
    assert report.size_bytes == 2 * 1024**3
    # The heading above the key lines is kept, not lost.
    assert report.message == (
        "Backup report\n\nIncrementele back-up voltooid; 312 gewijzigde bestanden."
    )


def test_it_reads_the_plain_part_of_a_multipart_alternative_mail() -> None:
    report = parse_backup_mail(sample("multipart-alternative.eml"))
    assert (report.job, report.status) == ("web01-mysql", "success")  # keys in any case
    assert report.started_at == datetime(2026, 11, 25, 0, 0, 5, tzinfo=UTC)
    assert report.size_bytes == 11811160064
    assert report.message == "All 14 databases dumped."


def test_it_takes_job_and_status_from_the_subject_when_the_body_lacks_them() -> None:
    report = parse_backup_mail(sample("subject-only.eml"))
    assert (report.job, report.status) == ("win01-files", "success")
    # No offset: Amsterdam wall time, which is UTC+1 in November.
    assert report.started_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert report.finished_at == datetime(2026, 11, 25, 3, 4, 59, tzinfo=UTC)
    assert report.message == "Robocopy finished without errors."


def test_the_parser_leaves_an_unknown_job_to_the_ingest() -> None:
    assert parse_backup_mail(sample("unknown-job.eml")).job == "web99-mysql"


@pytest.mark.parametrize(
    ("name", "reason", "job"),
    [
        ("missing-status.eml", "no Status line", "web01-mysql"),
        ("malformed-date.eml", "'25-11-2026 01:00' is no date and time", "web01-mysql"),
        ("finish-before-start.eml", "is before Started", "web01-mysql"),
    ],
)
def test_an_incomplete_report_is_refused_with_the_reason(name: str, reason: str, job: str) -> None:
    with pytest.raises(BackupMailError, match=reason) as caught:
        parse_backup_mail(sample(name))
    assert not isinstance(caught.value, BackupMailIgnored)
    assert caught.value.job == job


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto-reply.eml", "Auto-Submitted: auto-replied"),
        # Sendmail's bounces say auto-generated; the sender gives them away.
        ("bounce.eml", "sent by MAILER-DAEMON@backup3.example.nl"),
    ],
)
def test_auto_replies_and_bounces_are_ignored(name: str, reason: str) -> None:
    with pytest.raises(BackupMailIgnored) as caught:
        parse_backup_mail(sample(name))
    assert str(caught.value) == reason


# --- Parsing details --------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("success", "success"),
        ("OK", "success"),
        ("Warning", "warning"),
        ("warn", "warning"),
        ("FAILED", "failed"),
        ("failure", "failed"),
        ("error", "failed"),
    ],
)
def test_it_knows_the_status_words(word: str, status: str) -> None:
    raw = mail(f"Job: web01-mysql\nStatus: {word}\nStarted: 2026-11-25 01:00 +0100\n")
    assert parse_backup_mail(raw).status == status


def test_an_unknown_status_word_is_refused() -> None:
    raw = mail("Job: web01-mysql\nStatus: partial\nStarted: 2026-11-25 01:00 +0100\n")
    with pytest.raises(BackupMailError, match="unknown Status 'partial'"):
        parse_backup_mail(raw)


def test_the_body_wins_over_the_subject() -> None:
    raw = mail(
        "Job: web01-mysql\nStatus: failed\nStarted: 2026-11-25 01:00 +0100\n",
        subject="[backup] web01-files OK",
    )
    report = parse_backup_mail(raw)
    assert (report.job, report.status) == ("web01-mysql", "failed")


def test_a_reply_subject_stands_in_for_nothing() -> None:
    raw = mail("Started: 2026-11-25 01:00 +0100\n", subject="Re: [backup] web01-mysql FAILED")
    with pytest.raises(BackupMailError, match="no Job line"):
        parse_backup_mail(raw)


def test_a_missing_start_is_refused() -> None:
    with pytest.raises(BackupMailError, match="no Started line"):
        parse_backup_mail(mail("Job: web01-mysql\nStatus: ok\n\nStarted tomorrow.\n"))


def test_a_key_given_twice_is_refused() -> None:
    raw = mail("Job: web01-mysql\nStatus: ok\nstatus: failed\nStarted: 2026-11-25 01:00Z\n")
    with pytest.raises(BackupMailError, match="status is given twice"):
        parse_backup_mail(raw)


def test_the_message_starts_at_the_first_line_that_is_no_key() -> None:
    raw = mail(
        "Job: web01-mysql\nStatus: failed\nStarted: 2026-11-25 01:00Z\n"
        "mysqldump: error 2013\nSize: is not read here\n"
    )
    report = parse_backup_mail(raw)
    assert report.size_bytes is None
    assert report.message == "mysqldump: error 2013\nSize: is not read here"


def test_a_long_message_is_cut_as_the_api_would_refuse_it() -> None:
    raw = mail("Job: web01-mysql\nStatus: ok\nStarted: 2026-11-25 01:00Z\n\n" + "x" * 20_000)
    message = parse_backup_mail(raw).message
    assert len(message) == MESSAGE_MAX and message.endswith("[… cut at 10,000 characters]")


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-25T01:00:04+01:00", datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC)),
        ("2026-11-25T00:00:04Z", datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC)),
        ("2026-11-25T00:00:04.250000Z", datetime(2026, 11, 25, 0, 0, 4, 250000, tzinfo=UTC)),
        ("2026-11-25 01:00:04 +0100", datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC)),
        ("2026-11-25 01:00 -0530", datetime(2026, 11, 25, 6, 30, tzinfo=UTC)),
        # Without an offset: Amsterdam, winter (+1) and summer (+2).
        ("2026-11-25 01:00", datetime(2026, 11, 25, 0, 0, tzinfo=UTC)),
        ("2026-07-01 01:00:30", datetime(2026, 6, 30, 23, 0, 30, tzinfo=UTC)),
        # The hour the clocks go back comes twice; the first (summer) one counts.
        ("2026-10-25 02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_it_reads_dates_and_times(text: str, moment: datetime) -> None:
    assert parse_moment(text) == moment


def test_every_moment_comes_back_in_utc() -> None:
    assert parse_moment("2026-11-25 01:00").tzinfo == UTC
    assert parse_moment("2026-11-25T01:00+01:00").tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25-11-2026 01:00", "is no date and time"),
        ("2026-11-25", "is no date and time"),
        ("yesterday", "is no date and time"),
        ("2026-13-01 01:00", "no valid date and time"),
        ("2026-11-25 25:00", "no valid date and time"),
        ("2026-11-25 01:00 +2500", "offset"),
        ("2026-03-29 02:30", "does not exist in Europe/Amsterdam"),
    ],
)
def test_it_refuses_bad_dates(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_moment(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("123456789", 123456789),
        ("512 B", 512),
        ("512 bytes", 512),
        ("1KB", 1024),
        ("1.5 kb", 1536),
        ("10 MB", 10 * 1024**2),
        ("12.4 GB", 13314398618),
        ("3 GiB", 3 * 1024**3),
        ("2 TB", 2 * 1024**4),
    ],
)
def test_sizes_are_bytes_or_1024_based_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["12,4 GB", "-1", "1.5", "5 PB", "lots", "9" * 30])
def test_it_refuses_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="Size"):
        parse_size(text)


def test_a_bad_size_is_refused_by_the_parser() -> None:
    raw = mail("Job: web01-mysql\nStatus: ok\nStarted: 2026-11-25 01:00Z\nSize: huge\n")
    with pytest.raises(BackupMailError, match="Size 'huge'"):
        parse_backup_mail(raw)


def test_bytes_that_are_no_mail_are_refused() -> None:
    with pytest.raises(BackupMailError, match="unreadable mail"):
        parse_backup_mail(b"\n\nJob: web01-mysql\n")


# --- Ingesting --------------------------------------------------------------------


def test_it_stores_a_mailed_run_with_source_mail(setup: BackupSetup) -> None:
    result = backup_mail_ingest(raw=sample("failed-message.eml"), now=NOW)
    assert (result.outcome, result.job, result.status) == (Outcome.CREATED, "web01-mysql", "failed")
    run = BackupRun.objects.get()
    assert result.run == run and run.job == setup.mysql
    assert run.source == RunSource.MAIL and run.received_at == NOW
    assert run.started_at == datetime(2026, 11, 25, 0, 0, 4, tzinfo=UTC)
    assert run.size_bytes == 13314398618
    assert run.message.startswith("mysqldump: Got error: 2013")


@pytest.mark.parametrize("name", GOOD)
def test_every_good_sample_is_stored(setup: BackupSetup, name: str) -> None:
    assert backup_mail_ingest(raw=sample(name), now=NOW).outcome == Outcome.CREATED
    assert BackupRun.objects.filter(source=RunSource.MAIL).count() == 1


def test_the_same_mail_twice_is_one_run(setup: BackupSetup) -> None:
    first = backup_mail_ingest(raw=sample("failed-message.eml"), now=NOW)
    again = backup_mail_ingest(raw=sample("failed-message.eml"), now=NOW + timedelta(minutes=5))
    assert (first.outcome, again.outcome) == (Outcome.CREATED, Outcome.UPDATED)
    run = BackupRun.objects.get()
    assert run.received_at == NOW + timedelta(minutes=5)


def test_a_mail_then_an_api_report_of_the_same_run_is_one_run(
    setup: BackupSetup, token_client: Callable[..., APIClient]
) -> None:
    backup_mail_ingest(raw=sample("failed-message.eml"), now=NOW)
    script = token_client("backups:write", name="backup script")
    response = script.post(
        "/api/v1/backup-runs/",
        {
            "job": "web01-mysql",
            "status": "success",
            "started_at": "2026-11-25T00:00:04Z",  # the mail's 01:00:04 +0100
            "finished_at": "2026-11-25T03:30:00+01:00",
            "message": "retried by hand",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    run = BackupRun.objects.get()
    assert (run.status, run.source, run.message) == ("success", "api", "retried by hand")


def test_a_mail_after_the_check_updates_its_line(setup: BackupSetup) -> None:
    backup_checks_create(now=WED_0900)
    backup_mail_ingest(raw=sample("failed-message.eml"), now=NOW)
    line = BackupCheck.objects.get(group=setup.unix).lines.get(job=setup.mysql)
    assert line.state == "failed" and line.run == BackupRun.objects.get()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("unknown-job.eml", "unknown backup job 'web99-mysql'"),
        ("missing-status.eml", "no Status line"),
        ("malformed-date.eml", "is no date and time"),
        ("finish-before-start.eml", "is before Started"),
    ],
)
def test_a_bad_mail_is_an_error_and_stores_nothing(
    setup: BackupSetup, name: str, reason: str
) -> None:
    result = backup_mail_ingest(raw=sample(name), now=NOW)
    assert result.outcome == Outcome.ERROR and result.failed
    assert reason in result.reason and result.run is None
    assert not BackupRun.objects.exists()


@pytest.mark.parametrize("name", IGNORED)
def test_an_auto_reply_is_ignored_and_stores_nothing(setup: BackupSetup, name: str) -> None:
    result = backup_mail_ingest(raw=sample(name), now=NOW)
    assert result.outcome == Outcome.IGNORED and not result.failed and result.reason
    assert not BackupRun.objects.exists()


# --- The command ------------------------------------------------------------------


def run(*args: str) -> tuple[str, CommandError | None]:
    """The command's output, and its error (exit status 1) if it ended in one."""
    out = io.StringIO()
    try:
        call_command("ingest_backup_mail", *args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_the_command_reads_one_file(setup: BackupSetup) -> None:
    output, error = run("--file", str(MAILS / "failed-message.eml"))
    assert error is None
    assert output.splitlines() == ["web01-mysql failed created", "1 message(s): 1 created"]
    output, error = run("--file", str(MAILS / "failed-message.eml"))
    assert output.splitlines()[0] == "web01-mysql failed updated"
    assert BackupRun.objects.get().source == RunSource.MAIL


def test_the_command_exits_1_for_a_bad_file_and_stores_nothing(setup: BackupSetup) -> None:
    path = MAILS / "unknown-job.eml"
    output, error = run("--file", str(path))
    assert output.splitlines() == [
        f"web99-mysql success error (unknown backup job 'web99-mysql') [{path}]",
        "1 message(s): 1 error",
    ]
    assert error is not None and error.returncode == 1
    assert str(error) == "1 of 1 message(s) failed"
    assert not BackupRun.objects.exists()
    _output, error = run("--file", str(MAILS / "missing.eml"))
    assert error is not None and "Cannot read" in str(error)


def test_the_command_reads_standard_input(
    setup: BackupSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(sample("warning-qp-dutch.eml")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    output, error = run("--stdin")
    assert error is None and output.startswith("win01-files warning created\n")
    assert "Jänsen" in BackupRun.objects.get().message


def expected_lines(names: list[str], label: Callable[[str], str]) -> list[str]:
    """The lines the command prints for the samples, in sorted order."""
    lines = {
        "success-plain.eml": "web01-files success created",
        "failed-message.eml": "web01-mysql failed created",
        "warning-qp-dutch.eml": "win01-files warning created",
        "html-base64.eml": "web01-files success created",
        "multipart-alternative.eml": "web01-mysql success created",
        "subject-only.eml": "win01-files success created",
        "unknown-job.eml": "web99-mysql success error (unknown backup job 'web99-mysql')",
        "missing-status.eml": "web01-mysql - error (no Status line, "
        "and no status in the subject '[backup] <job> <STATUS>')",
        "malformed-date.eml": "web01-mysql success error ('25-11-2026 01:00' is no date "
        "and time (use YYYY-MM-DD HH:MM[:SS] [+HHMM]))",
        "finish-before-start.eml": "web01-mysql success error (Finished 2026-11-25 "
        "00:59:58 +0100 is before Started 2026-11-25 01:00:04 +0100)",
        "auto-reply.eml": "- - ignored (Auto-Submitted: auto-replied)",
    }
    return sorted(
        lines[name] + (f" [{label(name)}]" if "(" in lines[name] else "") for name in names
    )


# Two good mails of different jobs, every bad kind, and an auto-reply.
MIX = ["failed-message.eml", "subject-only.eml", *BAD, "auto-reply.eml"]
MIX_TOTAL = "7 message(s): 2 created, 4 error, 1 ignored"


def test_the_command_reads_a_maildir_once_and_exits_1_for_its_bad_mails(
    setup: BackupSetup, tmp_path: Path
) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    keys = {box.add(sample(name)): name for name in MIX}
    read_before = mailbox.MaildirMessage(sample("success-plain.eml"))
    read_before.set_subdir("cur")
    read_before.add_flag("S")
    box.add(read_before)
    output, error = run("--maildir", str(tmp_path / "Maildir"))
    *lines, total = output.splitlines()
    assert sorted(lines) == expected_lines(
        MIX, lambda name: next(k for k in keys if keys[k] == name)
    )
    assert total == MIX_TOTAL
    assert error is not None and error.returncode == 1 and str(error) == "4 of 7 message(s) failed"
    # Only the good mails became runs; the one read before was left alone.
    assert sorted(BackupRun.objects.values_list("job__reference", flat=True)) == [
        "web01-mysql",
        "win01-files",
    ]
    box = mailbox.Maildir(tmp_path / "Maildir", create=False)
    assert not list((tmp_path / "Maildir" / "new").iterdir())
    assert all(box.get_message(key).get_flags() == "S" for key in box.iterkeys())
    assert sorted(box.get_bytes(key) for key in keys) == sorted(sample(n) for n in MIX)
    # Read mail is not read again, so old errors are not repeated every run.
    assert run("--maildir", str(tmp_path / "Maildir")) == ("0 message(s)\n", None)
    _output, error = run("--maildir", str(tmp_path / "nowhere"))
    assert error is not None and "not a Maildir" in str(error)


def test_the_command_reads_an_mbox_and_exits_1_for_its_bad_mails(
    setup: BackupSetup, tmp_path: Path
) -> None:
    path = tmp_path / "backup.mbox"
    box = mailbox.mbox(path, create=True)
    for name in MIX:
        box.add(sample(name))
    box.close()
    stored = path.read_bytes()
    output, error = run("--mbox", str(path))
    *lines, total = output.splitlines()
    assert sorted(lines) == expected_lines(MIX, lambda name: f"{path}#{MIX.index(name) + 1}")
    assert total == MIX_TOTAL
    assert error is not None and error.returncode == 1
    assert BackupRun.objects.count() == 2
    # An mbox is only read; reading it again updates the same runs.
    output, _error = run("--mbox", str(path))
    assert output.splitlines()[-1] == "7 message(s): 4 error, 1 ignored, 2 updated"
    assert BackupRun.objects.count() == 2
    assert path.read_bytes() == stored
    _output, error = run("--mbox", str(tmp_path / "missing.mbox"))
    assert error is not None and "is not an mbox file" in str(error)


def test_the_command_reads_unseen_imap_mail_and_marks_it_seen(
    setup: BackupSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeImap.instances = []
    FakeImap.messages = {b"3": sample("failed-message.eml"), b"4": sample("unknown-job.eml")}
    monkeypatch.setattr(mail_sources.imaplib, "IMAP4_SSL", FakeImap)
    monkeypatch.setenv("BACKUP_IMAP_PASSWORD", "s3cret")
    args = ["--imap", "imap.example.test", "--user", "backups"]
    output, error = run(*args, "--password-env", "BACKUP_IMAP_PASSWORD")
    assert output.splitlines()[-1] == "2 message(s): 1 created, 1 error"
    assert "web99-mysql success error (unknown backup job 'web99-mysql') [UID 4]" in output
    assert error is not None and error.returncode == 1
    assert FakeImap.instances[0].seen == {b"3", b"4"}
    _output, error = run(*args)
    assert error is not None and "--imap needs --user and --password-env" in str(error)


def test_a_mail_that_breaks_unexpectedly_stays_unread_and_the_rest_go_on(
    setup: BackupSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = mail_in.backup_run_report

    def flaky(**values: Any) -> tuple[BackupRun, bool]:
        if values["job"] == setup.win:
            raise DatabaseError("connection lost")
        return report(**values)

    monkeypatch.setattr(mail_in, "backup_run_report", flaky)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(sample("subject-only.eml"))
    box.add(sample("failed-message.eml"))
    output, error = run("--maildir", str(tmp_path / "Maildir"))
    assert "web01-mysql failed created" in output
    assert "- - error (DatabaseError: connection lost)" in output
    assert output.splitlines()[-1] == "2 message(s): 1 created, 1 error"
    assert error is not None and error.returncode == 1
    assert len(list((tmp_path / "Maildir" / "new").iterdir())) == 1  # to be tried again
