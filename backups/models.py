"""Backup jobs, the runs the backup script reports, the daily check per
responsibility group with one line per expected run, backup problems and
restore tests."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer


class ResponsibilityGroup(models.Model):
    """Who checks which backups, e.g. Unix/Linux, Windows, VPS/support. The
    responsible engineer gets the daily check; when absent, the substitute
    named on the absence; without one, the group's fallback."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible engineer"),
        on_delete=models.PROTECT,
        related_name="backup_groups",
    )
    fallback = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fallback"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backup_fallback_groups",
        help_text=_("Gets the check when the responsible engineer is absent without substitute."),
    )
    email = models.EmailField(
        _("group address"), blank=True, help_text=_("Receives the daily backup report.")
    )

    class Meta:
        verbose_name = _("responsibility group")
        verbose_name_plural = _("responsibility groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BackupKind(models.TextChoices):
    MYSQL = "mysql", _("MySQL")
    PLESK = "plesk", _("Plesk")
    FILES = "files", _("files/other")


class OsFamily(models.TextChoices):
    UNIX = "unix", _("Unix/Linux")
    WINDOWS = "windows", _("Windows")
    OTHER = "other", _("other")


# Weekdays as digits, Monday = 0, as in datetime.weekday().
ALL_DAYS = "0123456"


class BackupJob(models.Model):
    """A configured backup of one machine. The default schedule is a weekly
    full backup (on `full_days`) and an incremental on the other nights."""

    reference = models.SlugField(
        _("reference"),
        max_length=80,
        unique=True,
        help_text=_("How the backup script names this job, e.g. web01-mysql."),
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="backup_jobs"
    )
    # The Network item when it is registered there; the hostname is kept
    # (copied from the item) so jobs of unregistered machines work too.
    machine = models.ForeignKey(
        "inventory.ConfigurationItem",
        verbose_name=_("Network item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backup_jobs",
    )
    hostname = models.CharField(_("machine"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=BackupKind.choices)
    os_family = models.CharField(_("OS family"), max_length=10, choices=OsFamily.choices)
    full_days = models.CharField(
        _("full backup on"), max_length=7, default="6", blank=True, help_text=_("weekdays")
    )
    incremental_days = models.CharField(
        _("incremental on"), max_length=7, default="012345", blank=True, help_text=_("weekdays")
    )
    starts_at = models.TimeField(_("starts at"), default="01:00")
    expected_finish = models.TimeField(_("expected finish"), default="09:00")
    storage_location = models.CharField(_("storage location"), max_length=200)
    group = models.ForeignKey(
        ResponsibilityGroup,
        verbose_name=_("responsibility group"),
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    restore_interval_days = models.PositiveIntegerField(_("restore test every (days)"), default=91)
    restore_due_on = models.DateField(_("next restore test"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    configured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("configured by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    configured_at = models.DateTimeField(_("configured at"))

    class Meta:
        verbose_name = _("backup job")
        verbose_name_plural = _("backup jobs")
        ordering = ["customer__number", "hostname", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(full_days="", incremental_days=""), name="backupjob_runs_some_day"
            ),
        ]
        indexes = [
            # jobs_expected(group): the daily check reads a group's active jobs.
            models.Index(fields=["group", "active"], name="backupjob_group_idx"),
            # restore_tests_due(): jobs by next restore date.
            models.Index(fields=["active", "restore_due_on"], name="backupjob_restore_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("backup-job", args=[self.reference])

    @property
    def reference_label(self) -> str:
        return f"{self.reference} ({self.hostname})"


class RunStatus(models.TextChoices):
    SUCCESS = "success", _("success")
    WARNING = "warning", _("warning")
    FAILED = "failed", _("failed")


class RunSource(models.TextChoices):
    API = "api", _("API")
    MAIL = "mail", _("mail")


class BackupRun(models.Model):
    """One run as reported by the backup script. The same job and start time
    reported twice is the same run (the second report updates it)."""

    job = models.ForeignKey(BackupJob, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices)
    full = models.BooleanField(_("full backup"), default=False)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(_("source"), max_length=5, choices=RunSource.choices)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "started_at"], name="backuprun_once_per_start"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="backuprun_finish_after_start",
            ),
        ]
        indexes = [
            # runs_between(jobs, window) and the job page's last runs; the
            # unique constraint's index (job, started_at) serves both.
            # daily report and KPIs: runs of a night over every job.
            models.Index(fields=["started_at"], name="backuprun_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job.reference} {self.started_at:%Y-%m-%d %H:%M}"


class BackupCheck(models.Model):
    """The daily "controleren back ups" of one responsibility group. One per
    group per day is a database fact (the unique constraint)."""

    group = models.ForeignKey(ResponsibilityGroup, on_delete=models.PROTECT, related_name="checks")
    day = models.DateField(_("day"))
    task = models.OneToOneField(
        "tickets.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("backup check")
        verbose_name_plural = _("backup checks")
        ordering = ["-day", "group__name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "day"], name="backupcheck_once_per_group_day"),
        ]
        indexes = [
            # checks_open(): open checks are refreshed by the periodic task.
            models.Index(
                fields=["day"], name="backupcheck_open_idx", condition=Q(completed_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group.name} {self.day:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("backup-check", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"backup check {self.group.name} {self.day:%Y-%m-%d}"

    @property
    def lead_time(self) -> timedelta | None:
        return self.completed_at - self.created_at if self.completed_at else None


class LineState(models.TextChoices):
    OK = "ok", _("ok")
    WARNING = "warning", _("warning")
    FAILED = "failed", _("failed")
    MISSING = "missing", _("missing")
    PENDING = "pending", _("not yet due")


# A line in one of these states must be handled before the check is done.
NEEDS_HANDLING = {LineState.WARNING, LineState.FAILED, LineState.MISSING}


class Handling(models.TextChoices):
    NO_INCIDENT = "no_incident", _("no incident")
    INCIDENT = "incident", _("incident")


class CheckLine(models.Model):
    """One expected run of last night on a check."""

    backup_check = models.ForeignKey(BackupCheck, on_delete=models.CASCADE, related_name="lines")
    job = models.ForeignKey(BackupJob, on_delete=models.PROTECT, related_name="check_lines")
    expected_start = models.DateTimeField(_("expected start"))
    expected_finish = models.DateTimeField(_("expected finish"))
    full = models.BooleanField(_("full backup"), default=False)
    run = models.ForeignKey(
        BackupRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="lines"
    )
    state = models.CharField(_("state"), max_length=10, choices=LineState.choices)
    handling = models.CharField(_("handling"), max_length=12, choices=Handling.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    problem = models.ForeignKey(
        "BackupProblem", on_delete=models.SET_NULL, null=True, blank=True, related_name="lines"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("check line")
        verbose_name_plural = _("check lines")
        ordering = ["job__customer__number", "job__hostname", "job__reference"]
        constraints = [
            models.UniqueConstraint(fields=["backup_check", "job"], name="checkline_once_per_job"),
            models.CheckConstraint(
                condition=Q(handling="") | ~Q(handled_at=None), name="checkline_handled_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(handling="no_incident", reason=""),
                name="checkline_no_incident_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(handling="incident", problem=None),
                name="checkline_incident_has_problem",
            ),
        ]
        indexes = [
            # lines_awaiting_run(job): a late report finds its open line.
            models.Index(fields=["job", "expected_start"], name="checkline_job_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job.reference}: {self.state}"

    @property
    def needs_handling(self) -> bool:
        return self.state in NEEDS_HANDLING and not self.handling


class Severity(models.TextChoices):
    MAJOR = "major", _("major")
    MINOR = "minor", _("minor")


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    SOLVED = "solved", _("solved")


# The only allowed changes of a backup problem's status; enforced in
# services.backup_problem_transition.
PROBLEM_TRANSITIONS: dict[str, set[str]] = {
    ProblemStatus.OPEN: {ProblemStatus.IN_PROGRESS, ProblemStatus.SOLVED},
    ProblemStatus.IN_PROGRESS: {ProblemStatus.SOLVED},
    ProblemStatus.SOLVED: {ProblemStatus.IN_PROGRESS},
}


class BackupProblem(models.Model):
    """A failed or missing backup judged an incident: assigned by task to the
    responsible colleague, analysed (cause) and solved (solution). Solved
    problems stay registered."""

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    job = models.ForeignKey(BackupJob, on_delete=models.PROTECT, related_name="problems")
    run = models.ForeignKey(
        BackupRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="problems"
    )
    severity = models.CharField(_("severity"), max_length=5, choices=Severity.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="backup_problems",
    )
    task = models.OneToOneField(
        "tickets.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("backup problem")
        verbose_name_plural = _("backup problems")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="solved") | (~Q(solution="") & Q(solved_at__isnull=False)),
                name="backupproblem_solved_has_solution",
            ),
        ]
        indexes = [
            # problems_to_remind / problems_to_escalate: open problems not yet
            # picked up, by age; only rows still waiting are in the index.
            models.Index(
                fields=["created_at"],
                name="backupproblem_remind_idx",
                condition=Q(status="open", reminded_at__isnull=True),
            ),
            models.Index(
                fields=["created_at"],
                name="backupproblem_escalate_idx",
                condition=Q(status="open", escalated_at__isnull=True),
            ),
            # the problems board: by status, newest first.
            models.Index(fields=["status", "-created_at"], name="backupproblem_board_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.job.reference}"

    def get_absolute_url(self) -> str:
        return reverse("backup-problem", args=[self.number])

    @property
    def reference(self) -> str:
        return self.number or ""


class RestoreResult(models.TextChoices):
    SUCCESS = "success", _("restored")
    FAILED = "failed", _("failed")


class RestoreTest(models.Model):
    """A restore of a job's backup, tried and recorded with its result."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    job = models.ForeignKey(BackupJob, on_delete=models.CASCADE, related_name="restore_tests")
    performed_on = models.DateField(_("performed on"))
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    result = models.CharField(_("result"), max_length=10, choices=RestoreResult.choices)
    notes = models.TextField(_("notes"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("restore test")
        verbose_name_plural = _("restore tests")
        ordering = ["-performed_on"]

    def __str__(self) -> str:
        return f"{self.job.reference} {self.performed_on}"


class DailyReport(models.Model):
    """The daily report mail of runs and failures. One row per day makes
    "sent once" a database fact; its event is the mail's outbox entry."""

    day = models.DateField(_("day"), unique=True)
    created_at = models.DateTimeField(_("created at"))
    summary = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("daily backup report")
        verbose_name_plural = _("daily backup reports")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"backup report {self.day:%Y-%m-%d}"

    @property
    def reference(self) -> str:
        return str(self)
