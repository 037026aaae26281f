"""Bulk backup data for `seed_bulk`: jobs for the machines inventory/bulk.py made, every
night of the last 60 days as the backup script reports it, the daily check of each
responsibility group with one line per expected run, and the backup problems the checkers
registered.

Ratios (C = bulk customers): jobs for 80% of the live servers, 1.4 per machine (files, plus
MySQL on 40% and Plesk on 15% of the Unix servers), so about 1.4 C jobs; one run per job and
night (10% of the jobs skip the weekend), so about 58 runs and 59 check lines per job (80 C
each), the bulk of this part: 95.5% succeed, 2% warn, 1.5% fail and 1% never report. Checks:
one per group (six) and day. Problems: half of the failed and missing runs and a tenth of the
warnings (about 0.85 per job). Restore tests: one for 40% of the jobs.

What the services would have made is derived with the same pure rules (backups/schedule.py):
the expected run of each night, the line state and the default severity. Past checks are
done: every warning, failure and missing run is handled (an incident with its problem, or
"no incident" with a reason). Today's check, from BACKUP_CHECK_HOUR on, is open with its
lines as they stand at `now`. Checks have no task (the service gives each a task). A later
run adds jobs only for machines it made, and reuses the check of a group and day that exists.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any

from django.conf import settings

from accounts.models import Customer, Grade, User
from backups import schedule
from backups.models import (
    NEEDS_HANDLING,
    BackupCheck,
    BackupJob,
    BackupKind,
    BackupProblem,
    BackupRun,
    CheckLine,
    Handling,
    LineState,
    OsFamily,
    ProblemStatus,
    ResponsibilityGroup,
    RestoreResult,
    RestoreTest,
    RunSource,
    RunStatus,
)
from inventory.bulk import SERVERS, Machine
from inventory.models import ItemKind, ItemStatus
from servicedesk.bulk import (
    EventRow,
    content_type_id,
    event_row,
    events_insert,
    ids_take,
    objects_insert,
    rows_insert,
)

DAYS = 60
JOB_SHARE = 0.8
JOBS_PER_BATCH = 500
GROUPS = {
    "bulk-unix": "Unix/Linux",
    "bulk-windows": "Windows",
    "bulk-vps-hyperv": "VPS Hyper-V",
    "bulk-vps-vmware": "VPS VMware",
    "bulk-db": "Databases",
    "bulk-hosting": "Hosting (Plesk)",
}
VPS_GROUPS: dict[str, str] = {
    ItemKind.VPS_HYPERV: "bulk-vps-hyperv",
    ItemKind.VPS_VMWARE: "bulk-vps-vmware",
}
# Per reported night: the status, or None for a run that never reported (missing).
OUTCOMES: dict[str | None, float] = {
    RunStatus.SUCCESS: 95.5,
    RunStatus.WARNING: 2,
    RunStatus.FAILED: 1.5,
    None: 1,
}
OUTCOME_CHOICES, OUTCOME_CUM = list(OUTCOMES), list(accumulate(OUTCOMES.values()))
MESSAGES: dict[str | None, str] = {
    RunStatus.WARNING: "3 tables skipped: locked by a running import",
    RunStatus.FAILED: "No space left on device (backup3:/srv/backups)",
}
# Share of lines needing handling that the checker judges an incident, by state.
INCIDENT_SHARE = {LineState.WARNING: 0.1, LineState.FAILED: 0.5, LineState.MISSING: 0.5}
REMIND = timedelta(hours=settings.BACKUP_PROBLEM_REMIND_HOURS)
ESCALATE = timedelta(hours=settings.BACKUP_PROBLEM_ESCALATE_HOURS)

RUN_COLUMNS = (
    "id",
    "job_id",
    "started_at",
    "finished_at",
    "status",
    "full",
    "size_bytes",
    "message",
    "source",
    "received_at",
)
LINE_COLUMNS = (
    "id",
    "backup_check_id",
    "job_id",
    "expected_start",
    "expected_finish",
    "full",
    "run_id",
    "state",
    "handling",
    "reason",
    "problem_id",
    "handled_by_id",
    "handled_at",
)

# Positions in those rows.
RUN_ID, RUN_STATUS, RUN_RECEIVED = (RUN_COLUMNS.index(c) for c in ("id", "status", "received_at"))
LINE_ID, LINE_RUN, LINE_STATE, LINE_HANDLING, LINE_REASON, LINE_PROBLEM, LINE_HANDLED_AT = (
    LINE_COLUMNS.index(c)
    for c in ("id", "run_id", "state", "handling", "reason", "problem_id", "handled_at")
)


@dataclass
class Check:
    """A check of this run's window; `new` when this run made it (and so completes it)."""

    row: BackupCheck
    new: bool
    checker: User
    ref: str  # as BackupCheck.reference spells it
    lines: int = 0
    done: datetime | None = None  # when its last line was handled or its last run came


@dataclass
class Batch:
    """The rows of one batch of jobs, before ids are taken."""

    runs: list[list[Any]] = field(default_factory=list)
    lines: list[list[Any]] = field(default_factory=list)
    problems: list[BackupProblem] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)


def seed_backups(
    *,
    rng: random.Random,
    customers: Sequence[Customer],
    engineers: Sequence[User],
    now: datetime,
    machines: Sequence[Machine],
) -> dict[str, int]:
    live = [m for m in machines if m.kind in SERVERS and m.status != ItemStatus.DECOMMISSIONED]
    counts = dict.fromkeys(("jobs", "runs", "check lines", "problems", "checks"), 0)
    if not live:
        return counts
    seniors = [e for e in engineers if e.grade == Grade.SENIOR] or list(engineers)
    groups = _groups(seniors)
    jobs = _jobs(rng, live, groups, engineers)
    today = now.astimezone(schedule.AMSTERDAM).date()
    tests, events = _restore_tests(rng, jobs, today)
    objects_insert(BackupJob, jobs)
    objects_insert(RestoreTest, tests)
    events += _job_events(jobs)
    counts["restore tests"] = len(tests)
    days = [today - timedelta(days=ago) for ago in range(DAYS - 1, -1, -1)]
    checks = _checks(rng, groups, days, now)
    for start in range(0, len(jobs), JOBS_PER_BATCH):
        batch = _nights(rng, jobs[start : start + JOBS_PER_BATCH], days, checks, now)
        counts["runs"] += rows_insert(BackupRun, RUN_COLUMNS, batch.runs)
        objects_insert(BackupProblem, batch.problems)
        counts["check lines"] += rows_insert(CheckLine, LINE_COLUMNS, batch.lines)
        counts["problems"] += len(batch.problems)
        events += batch.events
    events += _checks_complete(rng, checks, now)
    counts["jobs"], counts["checks"] = len(jobs), sum(c.new for c in checks.values())
    counts["events"] = events_insert(events)
    return counts


def _groups(seniors: list[User]) -> dict[str, ResponsibilityGroup]:
    ResponsibilityGroup.objects.bulk_create(
        [
            ResponsibilityGroup(
                code=code,
                name=name,
                responsible=seniors[i % len(seniors)],
                fallback=seniors[(i + 1) % len(seniors)],
                email=f"{code}@example.test",
            )
            for i, (code, name) in enumerate(GROUPS.items())
        ],
        ignore_conflicts=True,
    )
    found = ResponsibilityGroup.objects.filter(code__in=GROUPS).select_related("responsible")
    return {group.code: group for group in found}


def _jobs(
    rng: random.Random,
    machines: list[Machine],
    groups: dict[str, ResponsibilityGroup],
    engineers: Sequence[User],
) -> list[BackupJob]:
    """Files on every machine backed up, MySQL and Plesk on some Unix servers; a weekly
    full backup, mostly at night, a few in the evening (their run belongs to the next
    morning's check) and a few without weekend runs."""
    specs = []
    for machine in machines:
        if rng.random() >= JOB_SHARE:
            continue
        windows = machine.os_name.startswith("Windows")
        kinds = [BackupKind.FILES]
        if not windows:
            kinds += [
                kind
                for kind, share in ((BackupKind.MYSQL, 0.4), (BackupKind.PLESK, 0.15))
                if rng.random() < share
            ]
        specs += [(machine, kind, windows) for kind in kinds]
    jobs = []
    for pk, (machine, kind, windows) in zip(ids_take(BackupJob, len(specs)), specs, strict=True):
        full = rng.choices("650", weights=[70, 15, 15])[0]
        nights = "01234" if rng.random() < 0.1 else "0123456"
        if rng.random() < 0.8:
            starts = time(rng.randint(0, 4), rng.choice((0, 15, 30, 45)))
        else:
            starts = time(rng.choice((22, 23)), rng.choice((0, 30)))
        finish_hour = (starts.hour + rng.randint(4, 8)) % 24
        jobs.append(
            BackupJob(
                pk=pk,
                reference=f"{machine.hostname.split('.')[0]}-{kind}",
                customer_id=machine.customer_id,
                machine_id=machine.id,
                hostname=machine.hostname,
                kind=kind,
                os_family=OsFamily.WINDOWS if windows else OsFamily.UNIX,
                full_days=full,
                incremental_days="".join(d for d in nights if d != full),
                starts_at=starts,
                expected_finish=time(finish_hour, starts.minute),
                storage_location="nas02.mls" if windows else "backup3.ams2:/srv/backups",
                group=groups[_group_code(machine, kind, windows)],
                configured_by=rng.choice(engineers),
                configured_at=machine.created_at + timedelta(days=1),
            )
        )
    return jobs


def _group_code(machine: Machine, kind: str, windows: bool) -> str:
    if kind == BackupKind.MYSQL:
        return "bulk-db"
    if kind == BackupKind.PLESK:
        return "bulk-hosting"
    if windows:
        return "bulk-windows"
    return VPS_GROUPS.get(machine.kind, "bulk-unix")


def _checks(
    rng: random.Random, groups: dict[str, ResponsibilityGroup], days: list[date], now: datetime
) -> dict[tuple[int, date], Check]:
    """The check of every group on every day of the window, today's only from
    BACKUP_CHECK_HOUR on (as backup_checks_create makes them); existing ones are reused."""
    last = schedule.check_day(now=now, hour=settings.BACKUP_CHECK_HOUR)
    due = [day for day in days if last is not None and day <= last]
    by_pk = {group.pk: group for group in groups.values()}
    existing = set(
        BackupCheck.objects.filter(group__in=by_pk, day__in=due).values_list("group_id", "day")
    )
    BackupCheck.objects.bulk_create(
        [
            BackupCheck(
                group_id=pk,
                day=day,
                created_at=datetime.combine(
                    day,
                    time(settings.BACKUP_CHECK_HOUR, rng.randint(0, 5)),
                    tzinfo=schedule.AMSTERDAM,
                ),
            )
            for pk in by_pk
            for day in due
            if (pk, day) not in existing
        ],
        ignore_conflicts=True,
    )
    return {
        (check.group_id, check.day): Check(
            check,
            (check.group_id, check.day) not in existing,
            by_pk[check.group_id].responsible,
            f"backup check {by_pk[check.group_id].name} {check.day:%Y-%m-%d}",
        )
        for check in BackupCheck.objects.filter(group__in=by_pk, day__in=due)
    }


def _nights(
    rng: random.Random,
    jobs: list[BackupJob],
    days: list[date],
    checks: dict[tuple[int, date], Check],
    now: datetime,
) -> Batch:
    """Every night of the window for each job, oldest first: the run as reported (unless
    it never was, or is still running at `now`) and the line of that night's check."""
    batch = Batch()
    pending: list[tuple[list[Any], int | None, int | None]] = []  # line, run, problem index
    for job in jobs:
        plan = schedule.JobPlan(
            job.pk, job.full_days, job.incremental_days, job.starts_at, job.expected_finish
        )
        failed_before = False
        for day in days:
            expected = schedule.expected_run(plan, day)
            if expected is None or expected.start >= now:
                continue
            run = _run(rng, job, expected, now)
            if run is not None:
                batch.runs.append(run)
            check = checks.get((job.group_id, day))
            if check is not None:
                line, problem = _line(rng, job, expected, check, run, failed_before, now)
                problem_at = None
                if problem is not None:
                    batch.problems.append(problem)
                    problem_at = len(batch.problems) - 1
                pending.append((line, len(batch.runs) - 1 if run else None, problem_at))
                batch.events += _line_events(job, check, line)
            if run is not None:
                failed_before = run[RUN_STATUS] == RunStatus.FAILED
    for run, pk in zip(batch.runs, ids_take(BackupRun, len(batch.runs)), strict=True):
        run[RUN_ID] = pk
    problem_ids = ids_take(BackupProblem, len(batch.problems))
    for problem, pk in zip(batch.problems, problem_ids, strict=True):
        problem.pk, problem.number = pk, f"BP-{pk:06d}"
    for (row, run_at, problem_at), pk in zip(
        pending, ids_take(CheckLine, len(pending)), strict=True
    ):
        row[LINE_ID] = pk
        row[LINE_RUN] = batch.runs[run_at][RUN_ID] if run_at is not None else None
        if problem_at is not None:
            problem = batch.problems[problem_at]
            row[LINE_PROBLEM], problem.run_id = problem.pk, row[LINE_RUN]
            batch.events += _problem_events(problem, row)
    batch.lines = [line for line, _run, _problem in pending]
    return batch


def _run(
    rng: random.Random, job: BackupJob, expected: schedule.ExpectedRun, now: datetime
) -> list[Any] | None:
    """A RUN_COLUMNS row (id still to come), or None: never reported, or not finished."""
    status = rng.choices(OUTCOME_CHOICES, cum_weights=OUTCOME_CUM)[0]
    if status is None:
        return None
    started = expected.start + timedelta(minutes=rng.uniform(0, 8))
    minutes = rng.uniform(90, 300) if expected.full else rng.uniform(10, 90)
    if status == RunStatus.FAILED:
        minutes *= 0.3
    finished = started + timedelta(minutes=minutes)
    if finished > now:
        return None
    size = rng.randint(20, 400) * 1024**3 if expected.full else rng.randint(1, 20) * 1024**3
    source = RunSource.API if rng.random() < 0.9 else RunSource.MAIL
    message = MESSAGES.get(status, "")
    received = finished + timedelta(seconds=rng.uniform(1, 120))
    return [None, job.pk, started, finished, status, expected.full, size, message, source, received]


def _line(
    rng: random.Random,
    job: BackupJob,
    expected: schedule.ExpectedRun,
    check: Check,
    run: list[Any] | None,
    failed_before: bool,
    now: datetime,
) -> tuple[list[Any], BackupProblem | None]:
    """A LINE_COLUMNS row (ids still to come) and, for an incident, its problem. Lines of
    past checks that need handling are handled, once the check exists and the run came."""
    status = run[RUN_STATUS] if run else None
    state = schedule.line_state(expected=expected, run_status=status, now=now)
    handling, reason, handler, handled_at, problem = "", "", None, None, None
    if check.row.day < now.astimezone(schedule.AMSTERDAM).date() and state in NEEDS_HANDLING:
        handler = check.checker
        reported = run[RUN_RECEIVED] if run else expected.finish
        seen = max(check.row.created_at, expected.finish, reported)
        handled_at = seen + timedelta(minutes=rng.uniform(5, 90))
        if rng.random() < INCIDENT_SHARE[LineState(state)]:
            handling = Handling.INCIDENT
            severity = schedule.default_severity(full=expected.full, failed_before=failed_before)
            problem = _problem(rng, job, state, severity, handler, handled_at, now)
        else:
            handling, reason = Handling.NO_INCIDENT, "Machine in maintenance; next run checked."
        check.done = max(check.done or handled_at, handled_at)
    check.lines += 1
    line: list[Any] = [None, check.row.pk, job.pk, expected.start, expected.finish]
    line += [expected.full, None]
    line += [state, handling, reason, None, handler.pk if handler else None, handled_at]
    return line, problem


def _problem(
    rng: random.Random,
    job: BackupJob,
    state: str,
    severity: str,
    assignee: User,
    created: datetime,
    now: datetime,
) -> BackupProblem:
    """A problem as _problem_create registers it, then picked up and solved as far as time
    allows; the follow-up's reminder and escalation markers set where they came due."""
    old = now - created > timedelta(days=3)
    weights = (3, 7, 90) if old else (40, 35, 25)
    status = rng.choices(list(ProblemStatus), weights=weights)[0]
    problem = BackupProblem(
        job_id=job.pk,
        severity=severity,
        description=f"Backup run {state} on {job.hostname}.",
        assignee=assignee,
        created_at=created,
    )
    if status != ProblemStatus.OPEN:
        picked = created + timedelta(hours=rng.uniform(0.5, 20))
        if picked < now:
            problem.status, problem.picked_up_at = ProblemStatus.IN_PROGRESS, picked
            problem.cause = "Backup disk full after a large import."
    if status == ProblemStatus.SOLVED and problem.picked_up_at is not None:
        solved = problem.picked_up_at + timedelta(hours=rng.uniform(1, 48))
        if solved < now:
            problem.status, problem.solved_at = ProblemStatus.SOLVED, solved
            problem.solution = "Old backups pruned, retention lowered; a manual run succeeded."
    waited_until = problem.picked_up_at or now
    if waited_until - created > REMIND:
        problem.reminded_at = created + REMIND + timedelta(minutes=1)
    if waited_until - created > ESCALATE:
        problem.escalated_at = created + ESCALATE + timedelta(minutes=1)
    return problem


def _checks_complete(
    rng: random.Random, checks: dict[tuple[int, date], Check], now: datetime
) -> list[EventRow]:
    """Complete the past checks this run made, after their last line was handled (and
    the last run reported), and write their created and completed events."""
    today = now.astimezone(schedule.AMSTERDAM).date()
    check_type = content_type_id(BackupCheck)
    rows, done = [], []
    for check in checks.values():
        if not check.new:
            continue
        row, ref = check.row, check.ref
        data = {"assignee": check.checker.username, "lines": check.lines}
        rows.append(
            _check_event(check_type, row, ref, "backup_check.created", row.created_at, data)
        )
        if row.day < today:
            latest = max(check.done or row.created_at, row.created_at)
            row.completed_at = latest + timedelta(minutes=rng.uniform(5, 60))
            done.append(row)
            rows.append(
                _check_event(
                    check_type,
                    row,
                    ref,
                    "backup_check.completed",
                    row.completed_at,
                    {},
                    check.checker,
                )
            )
    BackupCheck.objects.bulk_update(done, ["completed_at"], batch_size=500)
    return rows


def _check_event(
    check_type: int,
    row: BackupCheck,
    ref: str,
    kind: str,
    at: datetime,
    data: dict[str, Any],
    actor: User | None = None,
) -> EventRow:
    return event_row(
        content_type=check_type,
        object_id=row.pk,
        object_ref=ref,
        kind=kind,
        at=at,
        actor=actor,
        data=data,
    )


def _line_events(job: BackupJob, check: Check, line: list[Any]) -> list[EventRow]:
    if not line[LINE_HANDLING]:
        return []
    return [
        event_row(
            content_type=content_type_id(BackupCheck),
            object_id=check.row.pk,
            object_ref=check.ref,
            kind="backup_check.line_handled",
            at=line[LINE_HANDLED_AT],
            actor=check.checker,
            to_state=line[LINE_HANDLING],
            reason=line[LINE_REASON],
            data={"job": job.reference, "state": line[LINE_STATE]},
        )
    ]


def _problem_events(problem: BackupProblem, line: list[Any]) -> list[EventRow]:
    problem_type = content_type_id(BackupProblem)
    ref = problem.number or ""
    rows = [
        event_row(
            content_type=problem_type,
            object_id=problem.pk,
            object_ref=ref,
            kind="backup_problem.created",
            at=problem.created_at,
            actor=problem.assignee,
            to_state=ProblemStatus.OPEN,
            data={"severity": problem.severity, "state": line[LINE_STATE]},
        )
    ]
    steps = [
        (ProblemStatus.OPEN, ProblemStatus.IN_PROGRESS, problem.picked_up_at),
        (ProblemStatus.IN_PROGRESS, ProblemStatus.SOLVED, problem.solved_at),
    ]
    for before, after, at in steps:
        if at is not None:
            rows.append(
                event_row(
                    content_type=problem_type,
                    object_id=problem.pk,
                    object_ref=ref,
                    kind="backup_problem.transition",
                    at=at,
                    actor=problem.assignee,
                    from_state=before,
                    to_state=after,
                )
            )
    return rows


def _job_events(jobs: list[BackupJob]) -> list[EventRow]:
    job_type = content_type_id(BackupJob)
    return [
        event_row(
            content_type=job_type,
            object_id=job.pk,
            object_ref=job.reference,
            kind="backup_job.created",
            at=job.configured_at,
            actor=job.configured_by,
            data={"changes": {"hostname": [None, job.hostname], "kind": [None, job.kind]}},
        )
        for job in jobs
    ]


def _restore_tests(
    rng: random.Random, jobs: list[BackupJob], today: date
) -> tuple[list[RestoreTest], list[EventRow]]:
    """A restore test in the last quarter for 40% of the jobs (one in ten failed); the
    next one is due an interval after it, the others' within the coming interval."""
    job_type = content_type_id(BackupJob)
    chosen = []
    for job in jobs:
        if rng.random() < 0.4:
            performed = today - timedelta(days=rng.randint(1, 85))
            chosen.append((job, performed))
            job.restore_due_on = performed + timedelta(days=job.restore_interval_days)
        else:
            job.restore_due_on = today + timedelta(days=rng.randint(-10, 80))
    tests, events = [], []
    for pk, (job, performed) in zip(ids_take(RestoreTest, len(chosen)), chosen, strict=True):
        result = RestoreResult.SUCCESS if rng.random() < 0.9 else RestoreResult.FAILED
        recorded = datetime.combine(performed, time(15), tzinfo=schedule.AMSTERDAM)
        tester = job.group.responsible
        tests.append(
            RestoreTest(
                pk=pk,
                job=job,
                performed_on=performed,
                performed_by=tester,
                result=result,
                recorded_at=recorded,
            )
        )
        events.append(
            event_row(
                content_type=job_type,
                object_id=job.pk,
                object_ref=job.reference,
                kind="backup_job.restore_tested",
                at=recorded,
                actor=tester,
                to_state=result,
                data={"performed_on": performed.isoformat()},
            )
        )
    return tests, events
