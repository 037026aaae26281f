"""Mails caused by backup events: reminders and escalations of problems nobody
picked up, and the daily report. (The check and problem tasks are mailed by
the task notifier like every other task.)"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.selectors import users_in_role
from backups.models import BackupProblem, DailyReport, ResponsibilityGroup
from events.models import Event
from events.notify import Mail, mails_to, notifier


def _problem_context(problem: BackupProblem) -> dict[str, Any]:
    return {
        "number": problem.number or "",
        "job": problem.job.reference_label,
        "customer": str(problem.job.customer),
        "severity": problem.get_severity_display(),
        "assignee": problem.assignee.get_full_name() or problem.assignee.username,
        "created_at": timezone.localtime(problem.created_at).strftime("%Y-%m-%d %H:%M"),
        "url": settings.SITE_URL + reverse("backup-problem", args=[problem.number]),
    }


def _problem(event: Event) -> BackupProblem:
    return BackupProblem.objects.select_related("job__customer", "assignee").get(pk=event.object_id)


@notifier("backup_problem.reminded")
def problem_reminder(event: Event) -> list[Mail]:
    problem = _problem(event)
    return mails_to([problem.assignee], "backup-problem-reminder", _problem_context(problem))


@notifier("backup_problem.escalated")
def problem_escalated(event: Event) -> list[Mail]:
    problem = _problem(event)
    return mails_to(
        users_in_role(Role.IT_MANAGER), "backup-problem-escalated", _problem_context(problem)
    )


@notifier("backup_report.created")
def daily_report(event: Event) -> list[Mail]:
    """To the IT managers, and to each group's address (or its responsible
    engineer when the group has no address)."""
    report = DailyReport.objects.get(pk=event.object_id)
    context = {
        "day": report.day.isoformat(),
        "counts": report.summary.get("counts", {}),
        "failures": report.summary.get("failures", []),
        "url": settings.SITE_URL + reverse("backup-checks"),
    }
    mails = mails_to(users_in_role(Role.IT_MANAGER), "backup-report", context)
    for group in ResponsibilityGroup.objects.select_related("responsible"):
        if group.email:
            mails.append(
                Mail(
                    recipient=group.email,
                    template="backup-report",
                    context=context,
                    language=settings.LANGUAGE_CODE,
                )
            )
        else:
            mails += mails_to([group.responsible], "backup-report", context)
    unique = {mail.recipient: mail for mail in mails}
    return list(unique.values())
