from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import Impact, Priority


class ChangeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    AWAITING_CAB = "awaiting_cab", _("awaiting CAB")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    IN_PROGRESS = "in_progress", _("in progress")
    IMPLEMENTED = "implemented", _("implemented")
    FAILED = "failed", _("failed")
    ROLLED_BACK = "rolled_back", _("rolled back")
    CLOSED = "closed", _("closed")


# The only allowed changes of a change's status; enforced in services.change_transition.
# Minor changes skip the CAB: submitted → in_progress.
CHANGE_TRANSITIONS: dict[str, set[str]] = {
    ChangeStatus.SUBMITTED: {ChangeStatus.AWAITING_CAB, ChangeStatus.IN_PROGRESS},
    ChangeStatus.AWAITING_CAB: {ChangeStatus.APPROVED, ChangeStatus.REJECTED},
    ChangeStatus.APPROVED: {ChangeStatus.IN_PROGRESS},
    ChangeStatus.REJECTED: {ChangeStatus.CLOSED},
    ChangeStatus.IN_PROGRESS: {
        ChangeStatus.IMPLEMENTED,
        ChangeStatus.FAILED,
        ChangeStatus.ROLLED_BACK,
    },
    ChangeStatus.IMPLEMENTED: {ChangeStatus.CLOSED},
    ChangeStatus.FAILED: {ChangeStatus.CLOSED},
    ChangeStatus.ROLLED_BACK: {ChangeStatus.CLOSED},
    ChangeStatus.CLOSED: set(),
}


class Classification(models.TextChoices):
    MINOR = "minor", _("minor")
    MAJOR = "major", _("major")


class Decision(models.TextChoices):
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class CabMeeting(models.Model):
    """A weekly meeting of the Change Advisory Board; major changes are put on
    the agenda of the next one. One meeting per moment is a database fact."""

    starts_at = models.DateTimeField(_("starts at"), unique=True)
    agenda_sent_at = models.DateTimeField(_("agenda sent at"), null=True, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)

    class Meta:
        verbose_name = _("CAB meeting")
        verbose_name_plural = _("CAB meetings")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"CAB {self.starts_at:%Y-%m-%d %H:%M}"


class FreezeWindow(models.Model):
    """A period in which no change may be carried out (except emergencies):
    for every machine, or only for some customers or machines."""

    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200)
    applies_to_all = models.BooleanField(_("all machines"), default=True)
    customers = models.ManyToManyField(
        "accounts.Customer", verbose_name=_("customers"), blank=True, related_name="+"
    )
    machines = models.JSONField(_("machines (host names)"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("freeze window")
        verbose_name_plural = _("freeze windows")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="freeze_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.starts_at:%Y-%m-%d}"


class Change(models.Model):
    """A request for change (RFC). Its classification is computed by
    changes/classifier.py from the four answers, never chosen."""

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"))
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_changes",
    )
    requester_label = models.CharField(max_length=150)
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("origin ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
    )
    # Hostnames until the inventory's machines exist to relate to.
    affected_machines = models.JSONField(_("affected machines"), default=list, blank=True)
    impact = models.CharField(_("impact"), max_length=6, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=6, choices=Impact.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    multiple_users = models.BooleanField(_("impact on multiple users"))
    dependencies = models.BooleanField(_("dependencies on other applications or environments"))
    unsupported = models.BooleanField(_("unsupported or experimental"))
    investment = models.BooleanField(_("investments involved"))
    justifications = models.JSONField(_("justifications"), default=dict, blank=True)
    classification = models.CharField(
        _("classification"), max_length=5, choices=Classification.choices
    )
    emergency = models.BooleanField(_("emergency"), default=False)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    estimated_cost = models.DecimalField(
        _("estimated cost"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    actual_cost = models.DecimalField(
        _("actual cost"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    estimated_hours = models.DecimalField(
        _("estimated effort (hours)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    actual_hours = models.DecimalField(
        _("actual effort (hours)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=14, choices=ChangeStatus.choices, default=ChangeStatus.SUBMITTED
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    argumentation = models.TextField(_("argumentation"), blank=True)
    alternatives = models.TextField(_("alternatives"), blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    cab_meeting = models.ForeignKey(
        CabMeeting,
        verbose_name=_("CAB meeting"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
    )
    # Incidents the change caused (for "failures per change").
    caused_incidents = models.ManyToManyField(
        "tickets.Ticket", verbose_name=_("incidents caused"), blank=True, related_name="caused_by"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-created_at"]
        permissions = [
            ("decide_change", _("Can decide on major changes")),
            ("advise_change", _("Can advise on major changes (CAB)")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gt=models.F("planned_start")),
                name="change_window_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decided_at__isnull=False),
                name="change_decision_has_time",
            ),
        ]
        indexes = [
            # the forward schedule: planned windows of approved and running changes.
            models.Index(
                fields=["planned_start"],
                condition=Q(status__in=["approved", "in_progress"]),
                name="change_schedule_idx",
            ),
            # lists by status, newest first.
            models.Index(fields=["status", "-created_at"], name="change_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def reference(self) -> str:
        return self.number or ""

    @property
    def answers(self) -> dict[str, bool]:
        return {
            "multiple_users": self.multiple_users,
            "dependencies": self.dependencies,
            "unsupported": self.unsupported,
            "investment": self.investment,
        }


class Advice(models.Model):
    """A CAB member's advice on a major change."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="advice")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    technically_feasible = models.BooleanField(_("technically feasible"))
    within_budget = models.BooleanField(_("within budget"))
    remarks = models.TextField(_("remarks"), blank=True)
    given_at = models.DateTimeField()

    class Meta:
        verbose_name = _("advice")
        verbose_name_plural = _("advice")
        constraints = [
            models.UniqueConstraint(fields=["change", "member"], name="advice_once_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.change_id} {self.member_id}"
