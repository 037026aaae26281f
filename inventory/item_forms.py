"""Forms of the configuration item pages. They check the shape of the input;
the rules (hostname format and uniqueness, address uniqueness, allowed
status changes) are item_services' and come back as ValidationErrors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import CustomerNumberField
from inventory.models import ITEM_TRANSITIONS, ConfigurationItem, ItemKind, ItemStatus, Location


def _any(label: Any, choices: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class ItemFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Part of a hostname, serial number, machine type or IP address."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=_any(_("Any kind"), ItemKind.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_any(_("Any status"), ItemStatus.choices)
    )
    customer = forms.CharField(label=_("Customer number"), required=False, max_length=10)
    location = forms.ModelChoiceField(
        label=_("Location"),
        required=False,
        queryset=Location.objects.order_by("name"),
        to_field_name="code",
        empty_label=_("Any location"),
    )

    def filters(self) -> dict[str, str]:
        """The cleaned filters as items_filter takes them (empty when invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "search": data["q"],
            "kind": data["kind"],
            "status": data["status"],
            "customer": data["customer"],
            "location": data["location"].code if data["location"] else "",
        }


class ItemForm(forms.Form):
    """An item's fields as item_create / item_update take them. The status is
    chosen on creation only; later it changes through the status form."""

    hostname = forms.CharField(
        label=_("Hostname"),
        required=False,
        max_length=200,
        help_text=_("Fully qualified, e.g. web01.example.nl; may stay empty while in stock."),
    )
    serial_number = forms.CharField(label=_("Serial number"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    machine_type = forms.CharField(
        label=_("Machine type"),
        required=False,
        max_length=100,
        help_text=_("Make and model, e.g. Dell PowerEdge R650."),
    )
    customer = CustomerNumberField(
        label=_("Customer number"),
        required=False,
        help_text=_("Empty for the company's own equipment."),
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        required=False,
        queryset=Location.objects.order_by("name"),
        to_field_name="code",
    )
    rack = forms.CharField(label=_("Rack"), required=False, max_length=40)
    os_name = forms.CharField(label=_("OS"), required=False, max_length=100)
    os_version = forms.CharField(label=_("OS version"), required=False, max_length=50)
    status = forms.ChoiceField(
        label=_("Status"), choices=ItemStatus.choices, initial=ItemStatus.IN_STOCK
    )
    redundancy_group = forms.CharField(
        label=_("Redundancy group"),
        required=False,
        max_length=100,
        help_text=_("Machines that back each other up; they are updated one at a time."),
    )
    notes = forms.CharField(
        label=_("Internal notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Never shown to the customer. Do not put passwords here: store them as secrets."
        ),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["status"]

    @classmethod
    def initial_of(cls, item: ConfigurationItem) -> dict[str, Any]:
        initial = {
            name: getattr(item, name) or ""
            for name in cls.base_fields
            if name not in ("customer", "location")
        }
        initial["customer"] = item.customer.number if item.customer else ""
        initial["location"] = item.location.code if item.location else ""
        return initial


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)

    def __init__(self, *args: Any, item: ConfigurationItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = ITEM_TRANSITIONS[item.status]
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in ItemStatus.choices if value in allowed
        ]


class IpAddressForm(forms.Form):
    address = forms.CharField(
        label=_("IP address"), max_length=45, help_text=_("IPv4 or IPv6, without a prefix length.")
    )


class SoftwareForm(forms.Form):
    name = forms.CharField(label=_("Software"), max_length=100)
    version = forms.CharField(label=_("Version"), max_length=50)


class SoftwareRemoveForm(forms.Form):
    name = forms.CharField(max_length=100)


class SecretForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        help_text=_("What it is, e.g. root password. The same label again replaces it."),
    )
    # render_value=False: a form shown again after an error never carries the secret.
    value = forms.CharField(
        label=_("Secret"),
        max_length=2000,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        help_text=_("Recorded with the reveal, e.g. the ticket you work on."),
    )
