"""Reads of backup jobs, checks and problems that depend on who asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from backups.models import (
    NEEDS_HANDLING,
    BackupCheck,
    BackupJob,
    BackupProblem,
    BackupRun,
    CheckLine,
    LineState,
    ProblemStatus,
    RestoreTest,
    RunStatus,
)


def jobs_visible_to(user: Any) -> QuerySet[BackupJob]:
    """Staff see every job; a customer user only their company's; anyone else none.
    Each job carries its latest run's status and start (one subquery, no N+1)."""
    latest = BackupRun.objects.filter(job=OuterRef("pk")).order_by("-started_at")
    qs = BackupJob.objects.select_related("customer", "group", "configured_by", "machine").annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_started_at=Subquery(latest.values("started_at")[:1]),
        last_finished_at=Subquery(latest.values("finished_at")[:1]),
    )
    if getattr(user, "customer_id", None):
        return qs.filter(customer_id=user.customer_id, active=True)
    if getattr(user, "is_staff", False):
        return qs
    return qs.none()


def job_get(*, user: Any, reference: str) -> BackupJob:
    job = jobs_visible_to(user).filter(reference=reference).first()
    if job is None:
        raise Http404("No such backup job")
    return job


def checks_visible_to(user: Any) -> QuerySet[BackupCheck]:
    if not getattr(user, "is_staff", False):
        return BackupCheck.objects.none()
    return BackupCheck.objects.select_related("group", "task__assignee").annotate(
        line_count=Count("lines"),
        open_count=Count(
            "lines",
            filter=Q(lines__state__in=NEEDS_HANDLING, lines__handling="")
            | Q(lines__state=LineState.PENDING),
        ),
    )


def check_get(*, user: Any, pk: int) -> BackupCheck:
    check = checks_visible_to(user).filter(pk=pk).first()
    if check is None:
        raise Http404("No such backup check")
    return check


def check_lines(check: BackupCheck) -> QuerySet[CheckLine]:
    return check.lines.select_related("job__customer", "run", "problem", "handled_by").order_by(
        "state", "job__customer__number", "job__hostname", "job__reference"
    )


def checks_with_lines(user: Any) -> QuerySet[BackupCheck]:
    """For the API: checks with their lines prefetched (two queries in all)."""
    lines = CheckLine.objects.select_related("job", "run", "problem").order_by("job__reference")
    return checks_visible_to(user).prefetch_related(Prefetch("lines", queryset=lines))


def problems_visible_to(user: Any) -> QuerySet[BackupProblem]:
    if not getattr(user, "is_staff", False):
        return BackupProblem.objects.none()
    return BackupProblem.objects.select_related("job__customer", "assignee", "run")


def problem_get(*, user: Any, number: str) -> BackupProblem:
    problem = problems_visible_to(user).filter(number=number).first()
    if problem is None:
        raise Http404("No such backup problem")
    return problem


def problems_board(user: Any, *, today: date, solved_days: int = 14) -> dict[str, list[Any]]:
    """Open and in-progress problems, and those solved in the last two weeks."""
    qs = problems_visible_to(user).filter(
        Q(status__in=[ProblemStatus.OPEN, ProblemStatus.IN_PROGRESS])
        | Q(solved_at__date__gte=today - timedelta(days=solved_days))
    )
    board: dict[str, list[Any]] = {status: [] for status in ProblemStatus.values}
    for problem in qs.order_by("-created_at")[:500]:
        board[problem.status].append(problem)
    return board


def restore_tests_due(user: Any, *, today: date, within_days: int = 30) -> QuerySet[BackupJob]:
    return (
        jobs_visible_to(user)
        .filter(active=True, restore_due_on__lte=today + timedelta(days=within_days))
        .order_by("restore_due_on", "reference")
    )


def night_summary(*, day: date) -> dict[str, Any]:
    """Last night's runs over every group: counts per state and the lines
    that went wrong, for the daily report."""
    lines = CheckLine.objects.filter(backup_check__day=day).select_related(
        "job__customer", "job__group", "run"
    )
    counts = {state: 0 for state in LineState.values}
    for row in lines.values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    failures = [
        {
            "job": line.job.reference,
            "hostname": line.job.hostname,
            "customer": line.job.customer.number,
            "group": line.job.group.name,
            "state": line.state,
            "message": (line.run.message if line.run else "")[:300],
        }
        for line in lines.exclude(state__in=[LineState.OK, LineState.PENDING]).order_by(
            "job__group__name", "job__reference"
        )
    ]
    return {"counts": counts, "failures": failures}


def restore_tests_recent(user: Any) -> QuerySet[RestoreTest]:
    """Recorded restore tests of the jobs `user` may see, newest first."""
    return (
        RestoreTest.objects.filter(job__in=jobs_visible_to(user).values("pk"))
        .select_related("job__customer", "performed_by")
        .order_by("-performed_on", "-recorded_at")
    )


def with_last_status_labels(jobs: Iterable[BackupJob]) -> list[BackupJob]:
    """Jobs of jobs_visible_to() as a list, each with `last_status_label`: the
    annotation holds the raw status value, pages show its translated label."""
    labels: dict[str, Any] = dict(RunStatus.choices)
    jobs = list(jobs)
    for job in jobs:
        status = str(getattr(job, "last_status", None) or "")
        job.last_status_label = labels.get(status, status)  # type: ignore[attr-defined]
    return jobs
