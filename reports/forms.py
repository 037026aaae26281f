from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.selectors import staff_users
from reports import kpis, periods
from reports.models import KpiTarget
from reports.selectors import Filters
from tickets.models import Department

PROCESS_VIEW = "process"
SCORECARD_VIEW = "scorecard"

_DATE = {"type": "date"}


class ReportForm(forms.Form):
    """The period and filters of the dashboard and of every CSV, from the
    query string. The day picks the day, week, month or quarter containing
    it; a custom period runs from `start` to `end`."""

    kind = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            (periods.DAY, _("Day")),
            (periods.WEEK, _("Week")),
            (periods.MONTH, _("Month")),
            (periods.QUARTER, _("Quarter")),
            (periods.CUSTOM, _("Custom")),
        ],
    )
    day = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(_DATE, format="%Y-%m-%d")
    )
    start = forms.DateField(
        label=_("From (custom)"),
        required=False,
        widget=forms.DateInput(_DATE, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To (custom)"),
        required=False,
        widget=forms.DateInput(_DATE, format="%Y-%m-%d"),
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=10)
    engineer = forms.ModelChoiceField(
        label=_("Engineer"),
        queryset=staff_users(),
        required=False,
        empty_label=_("All engineers"),
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=Department.objects.order_by("name"),
        required=False,
        empty_label=_("All groups"),
    )
    view = forms.ChoiceField(
        label=_("Grouped"),
        required=False,
        choices=[
            (PROCESS_VIEW, _("per process")),
            (SCORECARD_VIEW, _("as a balanced scorecard")),
        ],
    )

    def clean_customer(self) -> Customer | None:
        number = self.cleaned_data["customer"].strip()
        if not number:
            return None
        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            raise forms.ValidationError(_("There is no customer with this number."))
        return customer

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == periods.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("A custom period needs a first and a last day."))
            if end < start:
                self.add_error("end", _("The last day lies on or after the first."))
            elif (end - start).days >= periods.MAX_CUSTOM_DAYS:
                self.add_error(
                    "end",
                    _("A custom period spans at most %(days)d days.")
                    % {"days": periods.MAX_CUSTOM_DAYS},
                )
        return data

    def period(self, today: date) -> periods.Period:
        """The chosen period; the month of `today` when nothing (valid) was chosen."""
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("kind") or periods.MONTH
        if kind == periods.CUSTOM:
            return periods.custom(data["start"], data["end"])
        return periods.period_for(kind, data.get("day") or today)

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            customer=data["customer"].pk if data.get("customer") else None,
            engineer=data["engineer"].pk if data.get("engineer") else None,
            group=data["group"].pk if data.get("group") else None,
        )

    def view_mode(self) -> str:
        if self.is_valid() and self.cleaned_data.get("view") == SCORECARD_VIEW:
            return SCORECARD_VIEW
        return PROCESS_VIEW


DIRECTIONS = [
    ("", "—"),
    (kpis.HIGHER, _("higher is better")),
    (kpis.LOWER, _("lower is better")),
]


def target_field(code: str) -> str:
    return f"{code}--target"


def direction_field(code: str) -> str:
    return f"{code}--direction"


class TargetsForm(forms.Form):
    """A target and its direction for every KPI of the catalogue; an empty
    target removes it."""

    def __init__(self, *args: Any, targets: dict[str, KpiTarget], **kwargs: Any) -> None:
        # Without a target the direction offered is the KPI's own.
        initial: dict[str, Any] = {direction_field(kpi.code): kpi.better for kpi in kpis.KPIS}
        for code, target in targets.items():
            initial[target_field(code)] = target.target
            initial[direction_field(code)] = kpis.HIGHER if target.higher_is_better else kpis.LOWER
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for kpi in kpis.KPIS:
            self.fields[target_field(kpi.code)] = forms.DecimalField(
                label=kpi.label,
                required=False,
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
            self.fields[direction_field(kpi.code)] = forms.ChoiceField(
                label=_("Direction"), required=False, choices=DIRECTIONS
            )

    def wanted(self) -> dict[str, tuple[Decimal | None, bool | None]]:
        """{kpi: (target, higher_is_better)} for every KPI."""
        out = {}
        for kpi in kpis.KPIS:
            direction = self.cleaned_data.get(direction_field(kpi.code)) or ""
            higher = {kpis.HIGHER: True, kpis.LOWER: False}.get(direction)
            out[kpi.code] = (self.cleaned_data.get(target_field(kpi.code)), higher)
        return out
