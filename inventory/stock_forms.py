"""Forms of the stock pages. They check the shape of the input; the rules
(who may order or receive where, never more than outstanding, never below
zero) are the services' and come back as ValidationErrors on these forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.forms import CustomerNumberField
from accounts.selectors import staff_users
from inventory.models import (
    ConfigurationItem,
    ItemKind,
    Location,
    Product,
    ProductKind,
    StockCountLine,
    Supplier,
)


def _locations() -> Any:
    return Location.objects.order_by("name")


class LocationField(forms.ModelChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", _locations())
        kwargs.setdefault("to_field_name", "code")
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name}"


class ProductForm(forms.Form):
    sku = forms.SlugField(
        label=_("Article number"),
        max_length=40,
        help_text=_("Letters, digits and dashes; it cannot change later."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices)
    item_kind = forms.ChoiceField(
        label=_("Becomes a machine of kind"),
        choices=[("", _("no: plain stock")), *ItemKind.choices],
        required=False,
        help_text=_("Received units become configuration items, one per serial number."),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"), max_digits=10, decimal_places=2, min_value=0, initial=0
    )
    reorder_level = forms.IntegerField(
        label=_("Reorder level"),
        min_value=0,
        initial=0,
        help_text=_("Alert when the total stock falls to this level; 0: never."),
    )
    supplier = forms.ModelChoiceField(
        label=_("Usual supplier"), queryset=Supplier.objects.order_by("name"), required=False
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def initial_of(cls, product: Product) -> dict[str, Any]:
        initial = {name: getattr(product, name) for name in cls.base_fields}
        initial["supplier"] = product.supplier_id
        return initial


class OrderForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Supplier"), queryset=Supplier.objects.order_by("name")
    )
    destination = LocationField(label=_("Destination"))
    customer = CustomerNumberField(
        label=_("Customer number"),
        required=False,
        help_text=_("For goods a customer ordered; needed for receiving in a datacenter."),
    )
    expected_on = forms.DateField(
        label=_("Expected on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True).order_by("name"),
        to_field_name="sku",
        required=False,
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty: the product's price."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("product") and not data.get("quantity"):
            self.add_error("quantity", _("How many?"))
        if data.get("quantity") and not data.get("product"):
            self.add_error("product", _("Which product?"))
        return data


class BaseOrderLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[tuple[Product, int, Any]]:
        lines = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("product"):
                product = data["product"]
                price = data.get("unit_price")
                lines.append(
                    (product, data["quantity"], product.unit_price if price is None else price)
                )
        return lines


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseOrderLineFormSet, extra=5, max_num=50, absolute_max=50
)


class ReceiveForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity received"), min_value=1)
    location = LocationField(label=_("Put away at"))
    customer = CustomerNumberField(
        label=_("Customer number"),
        required=False,
        help_text=_("Goods put away in a datacenter are linked to a customer."),
    )
    serial_numbers = forms.CharField(
        label=_("Serial numbers"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One per line, one per unit; only for products that become machines."),
    )

    def clean_serial_numbers(self) -> list[str]:
        text = self.cleaned_data.get("serial_numbers") or ""
        return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class ItemField(forms.CharField):
    """A machine named by hostname or serial number."""

    def clean(self, value: Any) -> ConfigurationItem | None:
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        item = ConfigurationItem.objects.filter(Q(hostname=text) | Q(serial_number=text)).first()
        if item is None:
            raise forms.ValidationError(_("No machine has this hostname or serial number."))
        return item


class IssueForm(forms.Form):
    location = LocationField(label=_("From"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    customer = CustomerNumberField(label=_("For customer"), required=False)
    item = ItemField(
        label=_("Machine"),
        max_length=200,
        required=False,
        help_text=_(
            "Hostname or serial number: the machine the part goes into, or the machine issued."
        ),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class TransferForm(forms.Form):
    source = LocationField(label=_("From"))
    destination = LocationField(label=_("To"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class CountForm(forms.Form):
    location = LocationField(label=_("Location"))
    controller = forms.ModelChoiceField(
        label=_("Controller"), queryset=staff_users(), to_field_name="username"
    )
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["controller"].label_from_instance = lambda user: user.display_name  # type: ignore[attr-defined]


class CountRecordForm(forms.Form):
    """One number field per line of the count, named by the product's sku."""

    def __init__(self, *args: Any, lines: list[StockCountLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"counted-{line.product.sku}"] = forms.IntegerField(
                label=_("Counted %(product)s") % {"product": line.product.name},
                min_value=0,
                required=False,
                initial=line.counted,
            )

    def rows(self) -> list[tuple[StockCountLine, forms.BoundField]]:
        return [(line, self[f"counted-{line.product.sku}"]) for line in self.lines]

    def counted(self) -> dict[int, int | None]:
        return {
            line.product_id: self.cleaned_data.get(f"counted-{line.product.sku}")
            for line in self.lines
        }
