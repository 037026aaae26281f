"""Forms of the delivery pages. They check only the shape of the input; the
rules (hypervisor per server kind, the wanted date, the order of the steps,
who may accept) are the services' and come back as ValidationErrors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CustomerNumberField
from accounts.models import User
from accounts.roles import Role
from accounts.selectors import users_in_role
from inventory.models import (
    ConfigurationItem,
    DeliveryOrigin,
    Hypervisor,
    Location,
    ServerKind,
)


class DeliveryRequestForm(forms.Form):
    """The structured request: what exactly must be delivered, for whom, when."""

    customer = CustomerNumberField(label=_("Customer number"))
    origin = forms.ChoiceField(
        label=_("Origin"), choices=DeliveryOrigin.choices, widget=forms.RadioSelect
    )
    order_reference = forms.CharField(
        label=_("Order reference"),
        max_length=100,
        required=False,
        help_text=_("Required for a customer order; the quote or deal for a hand-over."),
    )
    server_kind = forms.ChoiceField(
        label=_("Server"), choices=ServerKind.choices, widget=forms.RadioSelect
    )
    hypervisor = forms.ChoiceField(
        label=_("Hypervisor"),
        choices=[("", _("none (physical server)")), *Hypervisor.choices[1:]],
        required=False,
        help_text=_("Virtual servers only: Hyper-V is created by the system, VMware by hand."),
    )
    os_name = forms.CharField(label=_("Operating system"), max_length=100)
    webserver = forms.CharField(label=_("Webserver"), max_length=100, required=False)
    database = forms.CharField(label=_("Database"), max_length=100, required=False)
    firewall = forms.CharField(label=_("Firewall"), max_length=100, required=False)
    contacts = forms.CharField(
        label=_("Contacts"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Name, e-mail address and phone of each contact; one per line."),
    )
    wanted_on = forms.DateField(
        label=_("Wanted on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class StepForm(forms.Form):
    step = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class RegisterForm(forms.Form):
    """Register the server in Network: link a machine that is there already
    (by hostname or serial number) or describe a new one."""

    existing = forms.CharField(
        label=_("Existing machine"),
        max_length=200,
        required=False,
        help_text=_("Hostname or serial number of a machine already in Network."),
    )
    hostname = forms.CharField(label=_("Hostname"), max_length=200, required=False)
    serial_number = forms.CharField(label=_("Serial number"), max_length=100, required=False)
    machine_type = forms.CharField(label=_("Machine type"), max_length=100, required=False)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.order_by("name"),
        to_field_name="code",
        required=False,
    )
    rack = forms.CharField(label=_("Rack"), max_length=40, required=False)
    password = forms.CharField(
        label=_("Server password"),
        max_length=2000,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted on the machine; never shown in documents."),
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def clean_existing(self) -> ConfigurationItem | None:
        reference = self.cleaned_data["existing"].strip()
        if not reference:
            return None
        item = (
            ConfigurationItem.objects.filter(hostname=reference).first()
            or ConfigurationItem.objects.filter(serial_number=reference).first()
        )
        if item is None:
            raise forms.ValidationError(_("No machine has this hostname or serial number."))
        return item

    def machine_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in ("hostname", "serial_number", "machine_type", "location", "rack")
            if data.get(name) not in (None, "")
        }


class EngineerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user: User = obj
        grade = user.get_grade_display()
        return f"{user.display_name()} ({grade})" if grade else user.display_name()


class AssignForm(forms.Form):
    engineer = EngineerChoiceField(
        label=_("Engineer"),
        queryset=User.objects.none(),
        to_field_name="username",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["engineer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = users_in_role(Role.ENGINEER).order_by("username")


class IssueForm(forms.Form):
    description = forms.CharField(
        label=_("What went wrong"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why cancel"), max_length=2000)


class RejectForm(forms.Form):
    """The customer's "report a problem" after their test."""

    remarks = forms.CharField(
        label=_("What is not right"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )
