from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CustomerNumberField
from changes.classifier import QUESTIONS
from tickets.models import Impact

QUESTION_LABELS = {
    "multiple_users": _("Impact on multiple users?"),
    "dependencies": _("Dependencies on other applications or environments?"),
    "unsupported": _("Unsupported or experimental?"),
    "investment": _("Are investments involved?"),
}


class ChangeForm(forms.Form):
    """A request for change with the four questions; each question has its own
    justification field, required (by the service) only when answered yes."""

    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    customer = CustomerNumberField(label=_("Customer number"), required=False)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices, initial=Impact.MEDIUM)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Impact.choices, initial=Impact.MEDIUM)
    affected_machines = forms.CharField(
        label=_("Affected machines (host names, comma separated)"), required=False
    )
    planned_start = forms.DateTimeField(
        label=_("Planned start"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    planned_end = forms.DateTimeField(
        label=_("Planned end"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    rollback_plan = forms.CharField(
        label=_("Rollback plan"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    emergency = forms.BooleanField(label=_("Emergency change"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question] = forms.BooleanField(
                label=QUESTION_LABELS[question], required=False
            )
            self.fields[f"{question}_why"] = forms.CharField(
                label=_("Why?"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        answers = {q: bool(data.pop(q)) for q in QUESTIONS}
        justifications = {q: data.pop(f"{q}_why") for q in QUESTIONS}
        machines = [m for m in data.pop("affected_machines").replace(";", ",").split(",")]
        return {
            **data,
            "answers": answers,
            "justifications": justifications,
            "affected_machines": machines,
        }


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("implemented", _("implemented")),
            ("failed", _("failed")),
            ("rolled_back", _("rolled back")),
        ],
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    actual_cost = forms.DecimalField(label=_("Actual cost"), required=False, min_value=0)
    actual_hours = forms.DecimalField(label=_("Actual effort (hours)"), required=False, min_value=0)


class CausedIncidentForm(forms.Form):
    ticket = forms.CharField(label=_("Incident caused (ticket number)"), max_length=12)
