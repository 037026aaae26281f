"""Targets for the KPIs (data the IT manager edits) and the monthly snapshots
that keep a closed month's figures as they were when the month ended."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class KpiTarget(models.Model):
    """The target of one KPI of the catalogue (reports/kpis.py). The direction
    is stored with it: whether a value above the target is good."""

    kpi = models.CharField(_("KPI"), max_length=60)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    higher_is_better = models.BooleanField(_("higher is better"))
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        ordering = ["kpi"]
        # The app's page permission lives here: reports have no model of their own.
        permissions = [("view_report", _("View reports"))]
        constraints = [
            models.UniqueConstraint(fields=["kpi"], name="kpitarget_once_per_kpi"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {'≥' if self.higher_is_better else '≤'} {self.target}"

    @property
    def reference(self) -> str:
        return f"target {self.kpi}"

    def is_met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        target = float(self.target)
        return value >= target if self.higher_is_better else value <= target


class MonthlySnapshot(models.Model):
    """The KPIs and breakdown tables of one closed month, stored once (the
    unique constraint), so later edits of tickets or changes do not rewrite
    what was reported. `values` is {"kpis": {code: value}, "tables": {code:
    {"rows": [[key, ...values]]}}}, the shape reports.selectors.report_values
    returns."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    created_at = models.DateTimeField(_("taken at"))
    values = models.JSONField(_("values"))

    class Meta:
        verbose_name = _("monthly snapshot")
        verbose_name_plural = _("monthly snapshots")
        ordering = ["-month"]
        constraints = [
            # "Once per month" as a database fact: a second run (or a racing
            # worker) fails to insert and keeps the first.
            models.UniqueConstraint(fields=["month"], name="snapshot_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.month:%Y-%m}"

    @property
    def reference(self) -> str:
        return str(self)
