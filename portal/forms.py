from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Priority, TicketType


class PortalTicketForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    # The customer only proposes; staff classify the priority that counts.
    requested_priority = forms.TypedChoiceField(
        label=_("Proposed priority"),
        choices=[("", _("No preference")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)


class PortalReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
    attachment = forms.FileField(label=_("Attachment"), required=False)


class ConfirmForm(forms.Form):
    """No fields: it carries the service's refusal back to the page."""


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("What is still wrong?"), widget=forms.Textarea(attrs={"rows": 3})
    )
