"""Forms of the update pages. They check the shape of the input only; the
rules (a test plan before the appointment, one node at a time, a reason when
the update does not apply) are the services' and come back as ValidationErrors
shown on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _yes(value: Any) -> bool:
    return value == "yes"


def yes_no(label: Any, **kwargs: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[("yes", _("yes")), ("no", _("no"))],
        coerce=_yes,
        widget=forms.RadioSelect,
        **kwargs,
    )


def _text(label: Any, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


class ReleaseForm(forms.Form):
    name = forms.CharField(label=_("Software"), max_length=100)
    version = forms.CharField(label=_("Newest version"), max_length=50)
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        required=False,
        help_text=_("Where it was seen: vendor advisory, mailing list, Tweakers, Twitter."),
    )
    published_on = forms.DateField(
        label=_("Published on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class CandidateForm(forms.Form):
    hostname = forms.CharField(label=_("Machine (hostname or serial number)"), max_length=200)
    software = forms.CharField(label=_("Software"), max_length=100)
    new_version = forms.CharField(label=_("New version"), max_length=50)
    source = forms.CharField(label=_("Source"), max_length=300, required=False)


class ResearchForm(forms.Form):
    impact = _text(_("Impact of the update"), required=False)
    applies = yes_no(_("Does it apply to us?"))
    causes_downtime = yes_no(_("Does the machine go down?"))
    downtime_minutes = forms.IntegerField(
        label=_("Expected downtime (minutes)"), min_value=1, required=False
    )
    customer_wants_it = yes_no(_("Does the customer want the update?"))
    workaround = _text(_("Workaround meanwhile"), rows=2, required=False)
    one_node_at_a_time = forms.BooleanField(
        label=_("Redundant machine: update one node at a time"), required=False
    )
    investment = forms.BooleanField(label=_("Are investments involved?"), required=False)
    investment_justification = _text(_("Which investments?"), rows=2, required=False)
    rollback_plan = _text(_("Rollback plan"), rows=2, required=False)
    reason = _text(
        _("Why it does not apply"),
        rows=2,
        required=False,
        help_text=_("Needed only when the update does not apply."),
    )


class ScheduleForm(forms.Form):
    appointment_at = forms.DateTimeField(
        label=_("Appointment"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_FORMATS,
    )
    test_plan = _text(_("Test plan"), rows=4, required=False)


class StaffApprovalForm(forms.Form):
    note = forms.CharField(
        label=_("How did the customer approve?"),
        max_length=300,
        required=False,
        help_text=_("E.g. by phone with J. de Vries, 12 March."),
    )


class PortalApprovalForm(forms.Form):
    note = forms.CharField(label=_("Remark (optional)"), max_length=300, required=False)


class TestForm(forms.Form):
    passed = yes_no(_("Did the test pass?"))
    result = _text(_("Test result"), required=False)


class VerifyForm(forms.Form):
    passed = yes_no(_("Does everything run well?"))
    post_install_result = _text(_("Post-install test"), required=False)


class RegisterForm(forms.Form):
    how_done = _text(_("How it was done"), rows=4, required=False)


class FailForm(forms.Form):
    reason = _text(_("What went wrong"), rows=2, required=False)
