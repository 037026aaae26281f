"""Writes for backup checks: job configuration (audited), run reports, the
daily check per responsibility group, handling its lines, backup problems,
follow-up, restore tests and the daily report."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import stand_in_for, users_in_role
from backups import schedule
from backups.models import (
    NEEDS_HANDLING,
    PROBLEM_TRANSITIONS,
    BackupCheck,
    BackupJob,
    BackupProblem,
    BackupRun,
    CheckLine,
    DailyReport,
    Handling,
    LineState,
    ProblemStatus,
    ResponsibilityGroup,
    RestoreResult,
    RestoreTest,
    RunSource,
    RunStatus,
    Severity,
)
from events.services import event_record, fields_apply
from inventory.models import ConfigurationItem
from tickets.models import Task, TaskStatus
from tickets.task_services import task_create, task_transition

logger = logging.getLogger(__name__)

# --- Jobs -----------------------------------------------------------------------

JOB_FIELDS = [
    "reference",
    "customer",
    "hostname",
    "machine",
    "kind",
    "os_family",
    "full_days",
    "incremental_days",
    "starts_at",
    "expected_finish",
    "storage_location",
    "group",
    "restore_interval_days",
    "active",
]


@transaction.atomic
def backup_job_save(
    *, actor: User, now: datetime, job: BackupJob | None = None, **fields: Any
) -> BackupJob:
    """Create or change a job's configuration. Every save records who
    configured it and when, with the old and new value of each changed field."""
    unknown = set(fields) - set(JOB_FIELDS)
    if unknown:
        raise TypeError(f"unknown job fields: {sorted(unknown)}")
    for name in ("full_days", "incremental_days"):
        if name in fields:
            try:
                fields[name] = schedule.parse_days(fields[name])
            except ValueError:
                message = _("Use weekday digits 0 (Monday) to 6 (Sunday).")
                raise ValidationError({name: message}) from None
    if "hostname" in fields and "machine" not in fields:
        # The machine as registered in Network, when it is there.
        fields["hostname"] = fields["hostname"].strip().lower()
        fields["machine"] = ConfigurationItem.objects.filter(hostname=fields["hostname"]).first()
    machine = fields.get("machine")
    if machine is not None:
        customer = fields.get("customer") or (job.customer if job is not None else None)
        if machine.customer_id is not None and machine.customer_id != getattr(customer, "pk", None):
            raise ValidationError(
                {"hostname": _("In Network this machine belongs to another customer.")}
            )
        fields["hostname"] = machine.hostname or fields.get("hostname", "")
    created = job is None
    if job is None:
        job = BackupJob(configured_at=now)
    else:
        job = BackupJob.objects.select_for_update().get(pk=job.pk)
    changes = fields_apply(job, fields, created=created)
    if not job.full_days and not job.incremental_days:
        raise ValidationError({"full_days": _("A job must run on at least one weekday.")})
    if set(job.full_days) & set(job.incremental_days):
        raise ValidationError(
            {"incremental_days": _("A night is either a full or an incremental backup.")}
        )
    if not created and not changes:
        return job
    job.configured_by = actor
    job.configured_at = now
    if job.restore_due_on is None or "restore_interval_days" in changes:
        job.restore_due_on = _restore_due(job, timezone.localdate(now))
    job.full_clean()
    job.save()
    event_record(
        obj=job,
        kind="backup_job.created" if created else "backup_job.configured",
        actor=actor,
        now=now,
        data={"changes": changes},
    )
    return job


def _restore_due(job: BackupJob, today: date) -> date:
    last = job.restore_tests.order_by("-performed_on").first() if job.pk else None
    start = last.performed_on if last else today
    return start + timedelta(days=job.restore_interval_days)


def _plan(job: BackupJob) -> schedule.JobPlan:
    return schedule.JobPlan(
        key=job.pk,
        full_days=job.full_days,
        incremental_days=job.incremental_days,
        starts_at=job.starts_at,
        expected_finish=job.expected_finish,
    )


# --- Runs -----------------------------------------------------------------------


@transaction.atomic
def backup_run_report(
    *,
    job: BackupJob,
    status: str,
    started_at: datetime,
    now: datetime,
    source: str = RunSource.API,
    finished_at: datetime | None = None,
    size_bytes: int | None = None,
    message: str = "",
) -> tuple[BackupRun, bool]:
    """Store a run the backup script reports; the same job and start time again
    updates that run. Returns (run, created). A report that arrives after the
    check was made (late backups are normal) updates the open check's line."""
    if status not in RunStatus.values:
        raise ValidationError({"status": _("Unknown run status.")})
    if finished_at is not None and finished_at < started_at:
        raise ValidationError({"finished_at": _("A run cannot finish before it started.")})
    values = {
        "status": status,
        "finished_at": finished_at,
        "size_bytes": size_bytes,
        "message": message,
        "source": source,
        "received_at": now,
    }
    plan = _plan(job)
    night = schedule.expected_run(plan, _night_of(job, started_at))
    values["full"] = bool(night and night.matches(started_at) and night.full)
    try:
        with transaction.atomic():
            run, created = BackupRun.objects.get_or_create(
                job=job, started_at=started_at, defaults=values
            )
    except IntegrityError:
        # A second report of the same run raced this one and won; update it.
        run, created = BackupRun.objects.get(job=job, started_at=started_at), False
    if not created:
        BackupRun.objects.filter(pk=run.pk).update(**values)
        run.refresh_from_db()
    for line in CheckLine.objects.select_for_update().filter(
        job=job,
        expected_start__gt=started_at - schedule.MATCH_WINDOW,
        expected_start__lt=started_at + schedule.MATCH_WINDOW,
    ):
        _line_attach_run(line=line, run=run, now=now)
    return run, created


def _night_of(job: BackupJob, started_at: datetime) -> date:
    """The check day a run started at `started_at` belongs to."""
    local = started_at.astimezone(schedule.AMSTERDAM)
    return local.date() + timedelta(days=1) if local.time() >= schedule.NOON else local.date()


def _line_attach_run(*, line: CheckLine, run: BackupRun, now: datetime) -> None:
    state = schedule.line_state(expected=_expected_of(line), run_status=run.status, now=now)
    from_state = line.state
    line.run = run
    line.state = state
    fields = ["run", "state"]
    if (
        line.handling == Handling.NO_INCIDENT
        and state != from_state
        and state in (LineState.FAILED, LineState.WARNING)
    ):
        # "No incident" was said of what was seen then (e.g. a missing run of
        # a machine in maintenance); a failure reported since needs a new look.
        # The old judgement stays in the check's history.
        line.handling, line.reason, line.handled_by, line.handled_at = "", "", None, None
        fields += ["handling", "reason", "handled_by", "handled_at"]
    line.save(update_fields=fields)
    check = BackupCheck.objects.select_for_update().get(pk=line.backup_check_id)
    event_record(
        obj=check,
        kind="backup_check.run_reported",
        actor=None,
        now=now,
        from_state=from_state,
        to_state=state,
        data={"job": line.job.reference, "late": now > line.expected_finish},
    )
    if check.completed_at is not None and line.needs_handling:
        _check_reopen(check=check, now=now)


def _expected_of(line: CheckLine) -> schedule.ExpectedRun:
    return schedule.ExpectedRun(line.job_id, line.expected_start, line.expected_finish, line.full)


# --- The daily check -----------------------------------------------------------


def check_assignee(*, group: ResponsibilityGroup, day: date) -> User:
    """The responsible engineer; when absent the substitute on the absence; else
    the group's fallback (or the fallback's substitute); else an IT manager."""
    for person in (group.responsible, group.fallback):
        if person is None or not person.is_active:
            continue
        stand_in = stand_in_for(user=person, day=day)
        if stand_in is not None and stand_in.is_active:
            return stand_in
    manager = users_in_role(Role.IT_MANAGER).first()
    if manager is None:
        raise ValidationError(_("Nobody can take the backup check of %s.") % group.name)
    return manager


def backup_checks_create(*, now: datetime) -> list[BackupCheck]:
    """Create today's check for every responsibility group that has none yet,
    from 09:00 local time on. The unique constraint on (group, day) decides a
    race: the loser's insert fails, its transaction rolls back, nothing doubles."""
    day = schedule.check_day(now=now, hour=settings.BACKUP_CHECK_HOUR)
    if day is None:
        return []
    created = []
    existing = BackupCheck.objects.filter(day=day).values_list("group_id", flat=True)
    for group in ResponsibilityGroup.objects.exclude(pk__in=list(existing)).select_related(
        "responsible", "fallback"
    ):
        try:
            created.append(_check_create(group=group, day=day, now=now))
        except IntegrityError:
            continue  # another worker made this group's check first
        except ValidationError:
            # Nobody can take this group's check (everyone absent, no IT
            # manager): log it loudly and still make the other groups' checks;
            # the next run of the task tries again.
            logger.exception("no backup check for group %s on %s", group.code, day)
    return created


@transaction.atomic
def _check_create(*, group: ResponsibilityGroup, day: date, now: datetime) -> BackupCheck:
    check = BackupCheck.objects.create(group=group, day=day, created_at=now)
    jobs = list(group.jobs.filter(active=True).order_by("pk"))
    by_pk = {job.pk: job for job in jobs}
    expected = schedule.expected_runs([_plan(job) for job in jobs], day)
    runs = _reported_runs(expected)
    lines = []
    for exp in expected:
        run = next((r for r in runs.get(exp.key, []) if exp.matches(r.started_at)), None)
        lines.append(
            CheckLine(
                backup_check=check,
                job=by_pk[exp.key],
                expected_start=exp.start,
                expected_finish=exp.finish,
                full=exp.full,
                run=run,
                state=schedule.line_state(
                    expected=exp, run_status=run.status if run else None, now=now
                ),
            )
        )
    CheckLine.objects.bulk_create(lines)
    assignee = check_assignee(group=group, day=day)
    check.task = task_create(
        title=_("Check backups: %(group)s %(day)s") % {"group": group.name, "day": day.isoformat()},
        description=_("Last night's runs: %(count)d.") % {"count": len(lines)},
        assignee=assignee,
        actor=None,
        now=now,
        due_date=day,
        link=check,
    )
    check.save(update_fields=["task"])
    event_record(
        obj=check,
        kind="backup_check.created",
        actor=None,
        now=now,
        data={"assignee": assignee.username, "lines": len(lines)},
    )
    return check


def _reported_runs(expected: list[schedule.ExpectedRun]) -> dict[Any, list[BackupRun]]:
    if not expected:
        return {}
    earliest = min(e.start for e in expected) - schedule.MATCH_WINDOW
    latest = max(e.start for e in expected) + schedule.MATCH_WINDOW
    runs: dict[Any, list[BackupRun]] = {}
    for run in BackupRun.objects.filter(
        job_id__in=[e.key for e in expected], started_at__gt=earliest, started_at__lt=latest
    ).order_by("started_at"):
        runs.setdefault(run.job_id, []).append(run)
    return runs


def backup_checks_refresh(*, now: datetime) -> int:
    """Lines still waiting for a run whose expected finish has passed become
    missing. Returns the number of lines changed."""
    changed = 0
    waiting = CheckLine.objects.filter(
        state=LineState.PENDING, expected_finish__lte=now, backup_check__completed_at=None
    ).values_list("pk", "backup_check_id")
    for line_id, check_id in waiting:
        with transaction.atomic():
            if CheckLine.objects.filter(pk=line_id, state=LineState.PENDING).update(
                state=LineState.MISSING
            ):
                changed += 1
                event_record(
                    obj=BackupCheck.objects.get(pk=check_id),
                    kind="backup_check.run_missing",
                    actor=None,
                    now=now,
                    from_state=LineState.PENDING,
                    to_state=LineState.MISSING,
                    data={"line": line_id},
                )
    return changed


def check_may_handle(*, check: BackupCheck, user: Any) -> bool:
    return bool(
        getattr(user, "is_staff", False)
        and (
            user.has_perm("backups.change_backupcheck")
            or (check.task is not None and check.task.assignee_id == user.pk)
        )
    )


@transaction.atomic
def check_line_handle(
    *,
    line: CheckLine,
    handling: str,
    actor: User,
    now: datetime,
    reason: str = "",
    severity: str = "",
    assignee: User | None = None,
    description: str = "",
) -> CheckLine:
    """Record the checker's judgement of a warning, failed or missing run: "no
    incident" with a reason, or "incident", which registers a backup problem
    and gives it by task to the responsible colleague. When every line is
    handled the check is done."""
    line = CheckLine.objects.select_for_update().select_related("job__group").get(pk=line.pk)
    check = BackupCheck.objects.select_for_update().get(pk=line.backup_check_id)
    if not check_may_handle(check=check, user=actor):
        raise PermissionDenied(_("You cannot handle this backup check."))
    if line.state not in NEEDS_HANDLING:
        raise ValidationError(
            {"handling": _("Only warnings, failures and missing runs need handling.")}
        )
    if line.handling:
        raise ValidationError({"handling": _("This run has been handled already.")})
    if handling == Handling.NO_INCIDENT:
        if not reason.strip():
            raise ValidationError({"reason": _("Say why this is no incident.")})
    elif handling == Handling.INCIDENT:
        line.problem = _problem_create(
            line=line,
            check=check,
            severity=severity or line_default_severity(line),
            assignee=assignee or check_assignee(group=line.job.group, day=check.day),
            description=description or reason,
            actor=actor,
            now=now,
        )
    else:
        raise ValidationError({"handling": _("Choose incident or no incident.")})
    line.handling = handling
    line.reason = reason.strip()
    line.handled_by = actor
    line.handled_at = now
    line.save(update_fields=["handling", "reason", "handled_by", "handled_at", "problem"])
    event_record(
        obj=check,
        kind="backup_check.line_handled",
        actor=actor,
        now=now,
        to_state=handling,
        reason=line.reason,
        data={"job": line.job.reference, "state": line.state},
    )
    if not check_open_lines(check).exists():
        _check_complete(check=check, actor=actor, now=now)
    return line


def check_open_lines(check: BackupCheck) -> Any:
    """Lines that keep the check from being done: unhandled problems and runs
    not yet due."""
    return check.lines.filter(Q(state__in=NEEDS_HANDLING, handling="") | Q(state=LineState.PENDING))


def line_default_severity(line: CheckLine) -> str:
    # The previous night's run, not this one (which may start up to the match
    # window early).
    previous = (
        BackupRun.objects.filter(
            job_id=line.job_id, started_at__lte=line.expected_start - schedule.MATCH_WINDOW
        )
        .order_by("-started_at")
        .values_list("status", flat=True)
        .first()
    )
    return schedule.default_severity(full=line.full, failed_before=previous == RunStatus.FAILED)


@transaction.atomic
def backup_check_complete(*, check: BackupCheck, actor: User, now: datetime) -> BackupCheck:
    """The checker confirms a check with nothing (left) to handle."""
    check = BackupCheck.objects.select_for_update().get(pk=check.pk)
    if not check_may_handle(check=check, user=actor):
        raise PermissionDenied(_("You cannot handle this backup check."))
    if check.completed_at is not None:
        raise ValidationError(_("This check is done already."))
    if check_open_lines(check).exists():
        raise ValidationError(_("Handle every warning, failure and missing run first."))
    _check_complete(check=check, actor=actor, now=now)
    return check


def _check_complete(*, check: BackupCheck, actor: User, now: datetime) -> None:
    check.completed_at = now
    check.save(update_fields=["completed_at"])
    event_record(obj=check, kind="backup_check.completed", actor=actor, now=now)
    if check.task is not None and check.task.status == TaskStatus.OPEN:
        task_transition(
            task=check.task, to=TaskStatus.CLOSED, actor=_SYSTEM, now=now, remark=_("Check done.")
        )


def _check_reopen(*, check: BackupCheck, now: datetime) -> None:
    """A late report turned a handled check into one with work again."""
    check.completed_at = None
    check.save(update_fields=["completed_at"])
    event_record(obj=check, kind="backup_check.reopened", actor=None, now=now)
    if check.task_id is not None:
        task = Task.objects.get(pk=check.task_id)
        if task.status == TaskStatus.CLOSED:
            task_transition(task=task, to=TaskStatus.OPEN, actor=_SYSTEM, now=now)


class _System:
    """The system itself closing or reopening a check's task."""

    is_integration = True
    pk = None

    def __str__(self) -> str:
        return "system"


_SYSTEM = _System()


# --- Problems -------------------------------------------------------------------


def _problem_create(
    *,
    line: CheckLine,
    check: BackupCheck,
    severity: str,
    assignee: User,
    description: str,
    actor: User,
    now: datetime,
) -> BackupProblem:
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose major or minor.")})
    if not assignee.is_staff or not assignee.is_active:
        raise ValidationError({"assignee": _("Problems go to active staff members only.")})
    problem = BackupProblem.objects.create(
        job=line.job,
        run=line.run,
        severity=severity,
        description=description,
        assignee=assignee,
        created_at=now,
    )
    problem.number = f"BP-{problem.pk:06d}"
    problem.task = task_create(
        title=_("Backup problem %(number)s: %(job)s")
        % {"number": problem.number, "job": line.job.reference_label},
        description=description,
        assignee=assignee,
        actor=actor,
        now=now,
        due_date=check.day,
        link=problem,
    )
    problem.save(update_fields=["number", "task"])
    event_record(
        obj=problem,
        kind="backup_problem.created",
        actor=actor,
        now=now,
        to_state=ProblemStatus.OPEN,
        data={"severity": severity, "assignee": assignee.username, "state": line.state},
    )
    return problem


def problem_may_change(*, problem: BackupProblem, user: Any) -> bool:
    return bool(
        getattr(user, "is_staff", False)
        and (user.pk == problem.assignee_id or user.has_perm("backups.change_backupproblem"))
    )


@transaction.atomic
def backup_problem_analyse(
    *, problem: BackupProblem, cause: str, actor: User, now: datetime
) -> BackupProblem:
    """Record the analysis; the first analysis picks the problem up."""
    problem = _problem_lock(problem, actor)
    if not cause.strip():
        raise ValidationError({"cause": _("Describe the cause.")})
    if problem.status == ProblemStatus.SOLVED:
        raise ValidationError({"cause": _("This problem is solved.")})
    problem.cause = cause.strip()
    problem.save(update_fields=["cause"])
    if problem.status == ProblemStatus.OPEN:
        _problem_transition(problem, ProblemStatus.IN_PROGRESS, actor, now)
    event_record(obj=problem, kind="backup_problem.analysed", actor=actor, now=now, reason=cause)
    return problem


@transaction.atomic
def backup_problem_solve(
    *, problem: BackupProblem, solution: str, actor: User, now: datetime, cause: str = ""
) -> BackupProblem:
    """Record the solution; the problem stays registered as solved and its task closes."""
    problem = _problem_lock(problem, actor)
    if not solution.strip():
        raise ValidationError({"solution": _("Describe the solution.")})
    if cause.strip():
        problem.cause = cause.strip()
    if not problem.cause:
        raise ValidationError({"cause": _("Record the cause before the solution.")})
    problem.solution = solution.strip()
    problem.solved_at = now
    problem.save(update_fields=["solution", "solved_at", "cause"])
    _problem_transition(problem, ProblemStatus.SOLVED, actor, now, reason=problem.solution)
    if problem.task_id is not None:
        task = Task.objects.get(pk=problem.task_id)
        if task.status == TaskStatus.OPEN:
            task_transition(
                task=task, to=TaskStatus.CLOSED, actor=_SYSTEM, now=now, remark=problem.solution
            )
    return problem


def _problem_lock(problem: BackupProblem, actor: User) -> BackupProblem:
    problem = BackupProblem.objects.select_for_update().get(pk=problem.pk)
    if not problem_may_change(problem=problem, user=actor):
        raise PermissionDenied(_("Only the assignee or a backup coordinator can change this."))
    return problem


def _problem_transition(
    problem: BackupProblem, to: str, actor: Any, now: datetime, reason: str = ""
) -> None:
    if to not in PROBLEM_TRANSITIONS.get(problem.status, set()):
        raise ValidationError({"status": _("This problem cannot move to that status.")})
    from_state = problem.status
    problem.status = to
    fields = ["status"]
    if to in (ProblemStatus.IN_PROGRESS, ProblemStatus.SOLVED) and problem.picked_up_at is None:
        problem.picked_up_at = now
        fields.append("picked_up_at")
    problem.save(update_fields=fields)
    event_record(
        obj=problem,
        kind="backup_problem.transition",
        actor=actor,
        now=now,
        from_state=from_state,
        to_state=to,
        reason=reason,
    )


def backup_problems_follow_up(*, now: datetime, batch: int = 200) -> dict[str, int]:
    """Problems not picked up in time: a reminder to the assignee after
    BACKUP_PROBLEM_REMIND_HOURS, the IT manager after BACKUP_PROBLEM_ESCALATE_HOURS.
    Each is claimed by a conditional UPDATE of its marker, so each happens once."""
    counts = {}
    steps = [
        ("reminded", "reminded_at", settings.BACKUP_PROBLEM_REMIND_HOURS),
        ("escalated", "escalated_at", settings.BACKUP_PROBLEM_ESCALATE_HOURS),
    ]
    for kind, marker, hours in steps:
        waiting = (
            BackupProblem.objects.filter(
                status=ProblemStatus.OPEN,
                created_at__lte=now - timedelta(hours=hours),
                **{f"{marker}__isnull": True},
            )
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch]
        )
        done = 0
        for pk in waiting:
            with transaction.atomic():
                claimed = BackupProblem.objects.filter(
                    pk=pk, status=ProblemStatus.OPEN, **{f"{marker}__isnull": True}
                ).update(**{marker: now})
                if claimed:
                    problem = BackupProblem.objects.get(pk=pk)
                    event_record(obj=problem, kind=f"backup_problem.{kind}", actor=None, now=now)
                    done += 1
        counts[kind] = done
    return counts


# --- Restore tests and the daily report -----------------------------------------


@transaction.atomic
def restore_test_record(
    *, job: BackupJob, performed_on: date, result: str, actor: User, now: datetime, notes: str = ""
) -> RestoreTest:
    today = timezone.localdate(now)
    if result not in RestoreResult.values:
        raise ValidationError({"result": _("Choose restored or failed.")})
    if performed_on > today:
        raise ValidationError({"performed_on": _("A restore test cannot be in the future.")})
    test = RestoreTest.objects.create(
        job=job,
        performed_on=performed_on,
        performed_by=actor,
        result=result,
        notes=notes,
        recorded_at=now,
    )
    job = BackupJob.objects.select_for_update().get(pk=job.pk)
    job.restore_due_on = _restore_due(job, today)
    job.save(update_fields=["restore_due_on"])
    event_record(
        obj=job,
        kind="backup_job.restore_tested",
        actor=actor,
        now=now,
        to_state=result,
        reason=notes,
        data={"performed_on": performed_on.isoformat()},
    )
    return test


def daily_report_create(*, now: datetime) -> DailyReport | None:
    """From BACKUP_REPORT_HOUR on, once a day: the summary of last night's runs
    and failures over every group, mailed to the IT manager and the groups."""
    day = schedule.check_day(now=now, hour=settings.BACKUP_REPORT_HOUR)
    if day is None or DailyReport.objects.filter(day=day).exists():
        return None
    from backups.selectors import night_summary

    try:
        with transaction.atomic():
            report = DailyReport.objects.create(
                day=day, created_at=now, summary=night_summary(day=day)
            )
            event_record(obj=report, kind="backup_report.created", actor=None, now=now)
    except IntegrityError:
        return None
    return report
