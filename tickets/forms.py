from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CustomerNumberField
from accounts.models import Grade, User
from accounts.selectors import staff_users
from tickets.models import (
    Category,
    CauseCode,
    Channel,
    Department,
    Impact,
    Priority,
    ProblemStatus,
    Resolution,
    TicketStatus,
    TicketType,
)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), to_field_name="username"
    )
    due_date = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()  # type: ignore[attr-defined]


class TaskCloseForm(forms.Form):
    remark = forms.CharField(
        label=_("Closing remark"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class TicketCreateForm(forms.Form):
    customer = CustomerNumberField(label=_("Customer number"))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices, initial=Impact.MEDIUM)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Impact.choices, initial=Impact.MEDIUM)
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[
            (Channel.STAFF, _("staff")),
            (Channel.PHONE, _("phone")),
            (Channel.EMAIL, _("email")),
        ],
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)


class ClassifyForm(forms.Form):
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Impact.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), to_field_name="username", required=False
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        to_field_name="code",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
    public = forms.BooleanField(
        label=_("Visible to the customer (unticked: internal note)"), required=False, initial=True
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=Resolution.choices)
    cause_code = forms.ModelChoiceField(
        label=_("Cause code"),
        queryset=CauseCode.objects.filter(active=True),
        to_field_name="code",
        required=False,
    )
    note = forms.CharField(
        label=_("Resolution for the customer"), widget=forms.Textarea(attrs={"rows": 3})
    )


class StatusForm(forms.Form):
    to = forms.ChoiceField(
        label=_("New status"),
        choices=[
            (TicketStatus.OPEN, _("open")),
            (TicketStatus.WAITING_ON_CUSTOMER, _("waiting on customer")),
            (TicketStatus.CLOSED, _("closed")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class ExtensionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    appointment = forms.DateTimeField(
        label=_("Follow-up appointment"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class EscalationForm(forms.Form):
    reason = forms.CharField(label=_("What was tried"), widget=forms.Textarea(attrs={"rows": 2}))
    tried_together = forms.BooleanField(
        label=_("We first tried to solve it together with a colleague"), required=False
    )
    supplier = forms.CharField(label=_("Supplier (optional)"), required=False, max_length=200)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("approve")), ("refuse", _("refuse"))]
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscalationDecisionForm(DecisionForm):
    engineer = forms.ModelChoiceField(
        label=_("Senior engineer"),
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = staff_users().filter(grade=Grade.SENIOR)  # type: ignore[attr-defined]


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("all unclosed")), *TicketStatus.choices],
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("any")), *Priority.choices],
    )
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("any")), *TicketType.choices]
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=10)
    assignee = forms.CharField(label=_("Assignee"), required=False, max_length=150)
    breached = forms.NullBooleanField(
        label=_("Breached"),
        required=False,
        widget=forms.Select(
            choices=[("", _("any")), ("true", _("breached")), ("false", _("not breached"))]
        ),
    )


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    symptom = forms.CharField(label=_("Symptom"), widget=forms.Textarea(attrs={"rows": 3}))
    cause = forms.CharField(
        label=_("Cause"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    solution = forms.CharField(
        label=_("Solution or workaround"), widget=forms.Textarea(attrs={"rows": 4})
    )
    is_workaround = forms.BooleanField(
        label=_("This is a workaround, not a solution"), required=False
    )


class ProblemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))


class LinkTicketForm(forms.Form):
    ticket = forms.CharField(label=_("Ticket number"), max_length=12)


class LinkProblemForm(forms.Form):
    problem = forms.CharField(label=_("Problem number"), max_length=12)


class ProblemStatusForm(forms.Form):
    to = forms.ChoiceField(label=_("New status"), choices=ProblemStatus.choices)
    workaround = forms.CharField(
        label=_("Workaround"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    root_cause = forms.CharField(
        label=_("Root cause"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class CallCardForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=40)
    customer = forms.CharField(label=_("Customer number (if known)"), max_length=10, required=False)
    caller = forms.CharField(label=_("Caller"), max_length=200, required=False)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}))


class CallCardTicketForm(forms.Form):
    customer = CustomerNumberField(label=_("Customer number"), required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices, initial=Impact.MEDIUM)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Impact.choices, initial=Impact.MEDIUM)


class TriageForm(forms.Form):
    customer = CustomerNumberField(label=_("Customer number"))
