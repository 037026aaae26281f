"""Forms of the backup pages. They only check the shape of the input; the rules
(weekday sets, who may handle a check, the cause before the solution) are the
services' and come back as ValidationErrors shown on these forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CustomerNumberField
from accounts.models import User
from backups.models import (
    BackupJob,
    BackupKind,
    OsFamily,
    ResponsibilityGroup,
    RestoreResult,
    Severity,
)

DAYS_HELP = _(
    "Weekday digits, Monday = 0 … Sunday = 6; e.g. 012345 is Monday to Saturday, "
    "6 is Sunday. A night is either full or incremental, never both."
)


class JobForm(forms.Form):
    """A backup job's configuration, as backup_job_save takes it."""

    reference = forms.SlugField(
        label=_("Reference"),
        max_length=80,
        help_text=_("How the backup script names this job, e.g. web01-mysql."),
    )
    customer = CustomerNumberField(label=_("Customer number"))
    hostname = forms.CharField(label=_("Machine (hostname)"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=BackupKind.choices)
    os_family = forms.ChoiceField(label=_("OS family"), choices=OsFamily.choices)
    full_days = forms.CharField(
        label=_("Full backup on"), max_length=20, required=False, help_text=DAYS_HELP
    )
    incremental_days = forms.CharField(
        label=_("Incremental on"), max_length=20, required=False, help_text=DAYS_HELP
    )
    starts_at = forms.TimeField(
        label=_("Starts at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Local time; from 12:00 on the run belongs to the next morning's check."),
    )
    expected_finish = forms.TimeField(
        label=_("Expected finish"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    storage_location = forms.CharField(label=_("Storage location"), max_length=200)
    group = forms.ModelChoiceField(
        label=_("Responsibility group"),
        queryset=ResponsibilityGroup.objects.order_by("name"),
        to_field_name="code",
    )
    restore_interval_days = forms.IntegerField(
        label=_("Restore test every (days)"), min_value=1, max_value=3660, initial=91
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def initial_of(cls, job: BackupJob) -> dict[str, Any]:
        initial = {name: getattr(job, name) for name in cls.base_fields}
        initial["customer"] = job.customer.number
        initial["group"] = job.group.code
        return initial


class NoIncidentForm(forms.Form):
    # No help text: the field sits in a table cell, its label says enough.
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class IncidentForm(forms.Form):
    """Register a backup problem. The assignee list is passed in once per page
    so a check with many lines does not query the staff list per line."""

    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    assignee = forms.ChoiceField(label=_("Assignee"))
    description = forms.CharField(label=_("Note"), max_length=1000, required=False)

    def __init__(self, *args: Any, staff: Iterable[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {user.username: user for user in staff}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            (username, user.display_name) for username, user in self.staff.items()
        ]

    def clean_assignee(self) -> User:
        return self.staff[self.cleaned_data["assignee"]]


class AnalyseForm(forms.Form):
    cause = forms.CharField(label=_("Cause"), widget=forms.Textarea(attrs={"rows": 3}))


class SolveForm(forms.Form):
    cause = forms.CharField(
        label=_("Cause"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Only when it differs from the recorded analysis."),
    )
    solution = forms.CharField(label=_("Solution"), widget=forms.Textarea(attrs={"rows": 3}))


class RestoreTestForm(forms.Form):
    job = forms.ModelChoiceField(
        label=_("Backup job"), queryset=BackupJob.objects.none(), to_field_name="reference"
    )
    performed_on = forms.DateField(
        label=_("Performed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    result = forms.ChoiceField(label=_("Result"), choices=RestoreResult.choices)
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, jobs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if jobs is not None:
            self.fields["job"].queryset = jobs  # type: ignore[attr-defined]


class JobFilterForm(forms.Form):
    customer = forms.CharField(label=_("Customer number"), max_length=10, required=False)
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=ResponsibilityGroup.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label=_("any"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("any")), *BackupKind.choices], required=False
    )
    active = forms.ChoiceField(
        label=_("Active"),
        choices=[("yes", _("active")), ("no", _("inactive")), ("", _("any"))],
        required=False,
    )
