"""Demo backup data for `loaddemo`: three responsibility groups, jobs of four
customers and a week of nights with a failure, a warning and a missing run.
Past checks are handled; today's (from 09:00) waits for the checker."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from accounts.models import Customer, User
from backups import schedule
from backups.models import (
    ALL_DAYS,
    BackupCheck,
    BackupJob,
    CheckLine,
    Handling,
    ResponsibilityGroup,
)
from backups.services import (
    backup_check_complete,
    backup_checks_create,
    backup_job_save,
    backup_problem_analyse,
    backup_problem_solve,
    backup_run_report,
    check_line_handle,
    check_open_lines,
    restore_test_record,
)

GROUPS = [
    # code, name, responsible, fallback
    ("unix", "Unix/Linux", "sr", "head"),
    ("windows", "Windows", "jr", "sr"),
    ("vps", "VPS/support", "jr", "head"),
]

JOBS = [
    # reference, customer, hostname, kind, os, group, starts_at, full_days, incremental_days
    ("web01-mysql", "1000", "web01.hoogendijk.example", "mysql", "unix", "unix", time(1), "6"),
    ("web01-plesk", "1000", "web01.hoogendijk.example", "plesk", "unix", "unix", time(2), "6"),
    ("web01-files", "1000", "web01.hoogendijk.example", "files", "unix", "unix", time(23), "5"),
    ("shop-mysql", "2000", "shop.korenschoof.example", "mysql", "unix", "unix", time(1, 30), "0"),
    ("zorg-fs01", "1010", "fs01.zeelandzorg.example", "files", "windows", "windows", time(0), "6"),
    ("vanrijn-vps", "2020", "vps12.vanrijn.example", "files", "unix", "vps", time(3), "6"),
]

# (nights ago, job) → how that night went; every other run succeeds.
INCIDENTS = {
    (1, "web01-mysql"): ("failed", "mysqldump: Got error 2013: Lost connection during query"),
    (1, "shop-mysql"): ("warning", "3 tables skipped: locked by a running import"),
    (3, "web01-mysql"): ("failed", "No space left on device (backup3:/srv/backups)"),
    (2, "zorg-fs01"): (None, ""),  # the run never reported: missing
    (0, "web01-files"): ("failed", "rsync error: some files vanished before they could be copied"),
    (0, "zorg-fs01"): (None, ""),
}


def load_demo_backups(staff: dict[str, User], now: datetime) -> None:
    if ResponsibilityGroup.objects.exists():
        return
    groups = {
        code: ResponsibilityGroup.objects.create(
            code=code, name=name, responsible=staff[resp], fallback=staff[fallback]
        )
        for code, name, resp, fallback in GROUPS
    }
    configured = now - timedelta(days=120)
    jobs = [
        backup_job_save(
            actor=staff["sr"],
            now=configured,
            reference=ref,
            customer=Customer.objects.get(number=number),
            hostname=host,
            kind=kind,
            os_family=os_family,
            group=groups[group],
            starts_at=starts,
            full_days=full,
            incremental_days="".join(d for d in ALL_DAYS if d not in full),
            storage_location="backup3.ams2:/srv/backups" if os_family == "unix" else "nas02.mls",
        )
        for ref, number, host, kind, os_family, group, starts, full in JOBS
    ]
    today = now.astimezone(schedule.AMSTERDAM).date()
    for ago in range(7, -1, -1):
        day = today - timedelta(days=ago)
        _night(jobs, day, ago, now)
        check_at = datetime.combine(day, time(9, 5), tzinfo=schedule.AMSTERDAM).astimezone(UTC)
        if check_at > now:
            break
        backup_checks_create(now=check_at)
        if ago > 0:
            _handle(day, ago, staff, check_at + timedelta(minutes=40))
    restore_test_record(
        job=jobs[0],
        performed_on=today - timedelta(days=60),
        result="success",
        notes="Restored last Sunday's full backup to a scratch VM; tables checked.",
        actor=staff["sr"],
        now=now,
    )
    restore_test_record(
        job=jobs[4],
        performed_on=today - timedelta(days=100),
        result="failed",
        notes="Restore stopped at 40%: the archive on nas02 was incomplete.",
        actor=staff["jr"],
        now=now,
    )


def _night(jobs: list[BackupJob], day: date, ago: int, now: datetime) -> None:
    for job in jobs:
        plan = schedule.JobPlan(
            job.pk, job.full_days, job.incremental_days, job.starts_at, job.expected_finish
        )
        expected = schedule.expected_run(plan, day)
        if expected is None or expected.start > now:
            continue
        status, message = INCIDENTS.get((ago, job.reference), ("success", ""))
        if status is None:
            continue
        started = expected.start + timedelta(minutes=2)
        finished = min(started + timedelta(hours=2, minutes=ago * 7), now)
        backup_run_report(
            job=job,
            status=status,
            started_at=started,
            finished_at=finished,
            size_bytes=(40 + ago) * 1024**3 if expected.full else (2 + ago) * 1024**3,
            message=message,
            now=finished,
        )


def _handle(day: date, ago: int, staff: dict[str, User], at: datetime) -> None:
    """Past checks were done: failures became problems (the older one solved),
    the rest judged no incident."""
    for line in CheckLine.objects.filter(backup_check__day=day, handling="").select_related(
        "job", "backup_check__task"
    ):
        if line.state in ("ok", "pending"):
            continue
        checker = line.backup_check.task.assignee if line.backup_check.task else staff["sr"]
        if line.state == "failed":
            handled = check_line_handle(
                line=line,
                handling=Handling.INCIDENT,
                reason=line.run.message if line.run else "",
                assignee=staff["jr"],
                actor=checker,
                now=at,
            )
            if ago > 2 and handled.problem is not None:
                backup_problem_analyse(
                    problem=handled.problem, cause="Backup volume full", actor=staff["jr"], now=at
                )
                backup_problem_solve(
                    problem=handled.problem,
                    solution="Archives older than 90 days moved to cold storage; volume grown.",
                    actor=staff["jr"],
                    now=at + timedelta(hours=3),
                )
        else:
            check_line_handle(
                line=line,
                handling=Handling.NO_INCIDENT,
                reason="Server was in planned maintenance; the next night's run is fine."
                if line.state == "missing"
                else "Known lock during the nightly import; data complete.",
                actor=checker,
                now=at,
            )
    for check in BackupCheck.objects.filter(day=day, completed_at=None).select_related("task"):
        if not check_open_lines(check).exists() and check.task is not None:
            backup_check_complete(check=check, actor=check.task.assignee, now=at)
