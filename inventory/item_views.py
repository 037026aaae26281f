"""Staff pages of the configuration items: the list with search, filters and
a CSV export; an item's page with its addresses, software, secret labels,
backup jobs and field-level history; the forms that change them. Revealing
a secret is a POST that shows the value once, on a page that is not cached,
never in a URL, a redirect or a message."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from events.services import history_of
from inventory.item_forms import (
    IpAddressForm,
    ItemFilterForm,
    ItemForm,
    RevealForm,
    SecretForm,
    SoftwareForm,
    SoftwareRemoveForm,
    StatusForm,
)
from inventory.item_selectors import (
    item_get,
    item_secrets,
    items_filter,
    items_visible_to,
    secret_get,
    with_details,
)
from inventory.item_services import (
    ITEM_FIELDS,
    ip_address_add,
    ip_address_remove,
    item_create,
    item_transition,
    item_update,
    secret_remove,
    secret_reveal,
    secret_store,
    software_remove,
    software_set,
)
from inventory.models import ConfigurationItem, ItemKind, ItemStatus
from servicedesk.lib.access import permission_required
from servicedesk.lib.forms import add_service_errors

VIEW = "inventory.view_configurationitem"
ADD = "inventory.add_configurationitem"
CHANGE = "inventory.change_configurationitem"
REVEAL = "inventory.reveal_secret"
PAGE_SIZE = 50
HISTORY_LIMIT = 200
ORDERING = ("hostname", "serial_number", "id")


# --- List and export ------------------------------------------------------------


def _filtered(request: HttpRequest) -> tuple[ItemFilterForm, QuerySet[ConfigurationItem]]:
    form = ItemFilterForm(request.GET)
    items = items_filter(items_visible_to(request.user), **form.filters())
    return form, with_details(items).order_by(*ORDERING)


@permission_required(VIEW)
def item_list(request: HttpRequest) -> HttpResponse:
    """Every item with its addresses (prefetched: the page's query count does
    not grow with the number of items)."""
    form, items = _filtered(request)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "filters": query.urlencode()}
    return render(request, "inventory/items/item_list.html", context)


class _Echo:
    """csv.writer writes into this and gets the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


CSV_HEADER = [
    "hostname",
    "serial_number",
    "kind",
    "machine_type",
    "customer",
    "customer_name",
    "location",
    "rack",
    "os",
    "os_version",
    "status",
    "redundancy_group",
    "ip_addresses",
    "software",
    "updated_at",
]
# A cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_rows(items: QuerySet[ConfigurationItem]) -> Iterator[list[str]]:
    yield CSV_HEADER
    # iterator() with a chunk size keeps memory flat and still prefetches per chunk.
    for item in items.iterator(chunk_size=500):
        row = [
            item.hostname,
            item.serial_number,
            item.kind,
            item.machine_type,
            item.customer.number if item.customer else "",
            item.customer.name if item.customer else "",
            item.location.code if item.location else "",
            item.rack,
            item.os_name,
            item.os_version,
            item.status,
            item.redundancy_group,
            " ".join(str(ip.address) for ip in item.ip_addresses.all()),
            "; ".join(f"{sw.name} {sw.version}" for sw in item.software.all()),
            item.updated_at.isoformat(),
        ]
        yield [_cell(value) for value in row]


# permission_required is typed for HttpResponse; a streaming answer passes through it unchanged.
@permission_required(VIEW)  # type: ignore[arg-type]
def item_export(request: HttpRequest) -> StreamingHttpResponse:
    """The list as CSV with the same filters, streamed row by row. Secrets and
    internal notes are not part of it."""
    _form, items = _filtered(request)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(items)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="network-items-{stamp}.csv"'
    return response


# --- The item page --------------------------------------------------------------

_CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "kind": dict(ItemKind.choices),
    "status": dict(ItemStatus.choices),
}


def _event_label(kind: str) -> str:
    # Looked up per request (not at import) so the label follows the language.
    labels = {
        "item.created": _("registered"),
        "item.updated": _("changed"),
        "item.status_changed": _("status changed"),
        "item.ip_added": _("IP address added"),
        "item.ip_removed": _("IP address removed"),
        "item.software_set": _("software recorded"),
        "item.software_removed": _("software removed"),
        "item.secret_stored": _("secret stored"),
        "item.secret_removed": _("secret removed"),
        "item.secret_revealed": _("secret revealed"),
    }
    return labels.get(kind, kind)


def _field_label(name: str) -> str:
    if name.startswith("software:"):
        return _("Software %(name)s") % {"name": name.split(":", 1)[1]}
    if name == "ip_addresses":
        return _("IP address")
    try:
        field = ConfigurationItem._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return capfirst(str(getattr(field, "verbose_name", name)))


def _value_label(name: str, value: Any) -> Any:
    labels = _CHOICE_LABELS.get(name)
    if labels and value in labels:
        return labels[value]
    return value


def item_history(item: ConfigurationItem) -> list[dict[str, Any]]:
    """The item's events, newest first, each with its changed fields as
    (label, old, new) and the secret label it concerns, if any."""
    entries = []
    for event in history_of(item).order_by("-created_at", "-id")[:HISTORY_LIMIT]:
        data = event.data or {}
        changes = data.get("changes") or {}
        entries.append(
            {
                "event": event,
                "label": _event_label(event.kind),
                "secret": data.get("label", "") if event.kind.startswith("item.secret_") else "",
                "changes": [
                    (_field_label(name), _value_label(name, old), _value_label(name, new))
                    for name, (old, new) in changes.items()
                ],
            }
        )
    return entries


def _detail_page(
    request: HttpRequest, item: ConfigurationItem, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    context = {
        "item": item,
        "ip_addresses": item.ip_addresses.order_by("address"),
        "software": item.software.order_by("name"),
        "secrets": item_secrets(item),
        "backup_jobs": item.backup_jobs.select_related("group").order_by("reference"),
        "history": item_history(item),
        "status_form": bound.get("status_form") or StatusForm(item=item, auto_id="status_%s"),
        "ip_form": bound.get("ip_form") or IpAddressForm(auto_id="ip_%s"),
        "software_form": bound.get("software_form") or SoftwareForm(auto_id="software_%s"),
        "secret_form": bound.get("secret_form") or SecretForm(auto_id="secret_%s"),
    }
    return render(request, "inventory/items/item_detail.html", context, status=status)


@permission_required(VIEW)
def item_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _detail_page(request, item_get(user=request.user, reference=reference))


# --- Creating and editing -------------------------------------------------------


def _form_page(
    request: HttpRequest, form: ItemForm, item: ConfigurationItem | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "item": item}
    return render(request, "inventory/items/item_form.html", context, status=status)


def _fields(form: ItemForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in ITEM_FIELDS if name in form.cleaned_data}


@permission_required(ADD)
def item_new(request: HttpRequest) -> HttpResponse:
    form = ItemForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                item = item_create(actor=request.user, now=timezone.now(), **_fields(form))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("%(item)s registered.") % {"item": item})
                return redirect(item.get_absolute_url())
        return _form_page(request, form, None, status=400)
    return _form_page(request, form, None)


@permission_required(CHANGE)
def item_edit(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = ItemForm(request.POST or None, initial=ItemForm.initial_of(item), editing=True)
    if request.method == "POST":
        if form.is_valid():
            try:
                item = item_update(
                    item=item, actor=request.user, now=timezone.now(), **_fields(form)
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(item.get_absolute_url())
        return _form_page(request, form, item, status=400)
    return _form_page(request, form, item)


@require_POST
@permission_required(CHANGE)
def item_status(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = StatusForm(request.POST, item=item, auto_id="status_%s")
    if form.is_valid():
        try:
            item = item_transition(
                item=item,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Status is now %(status)s.") % {"status": item.get_status_display()}
            )
            return redirect(item.get_absolute_url())
    return _detail_page(request, item, status=400, status_form=form)


# --- Addresses and software -----------------------------------------------------


@require_POST
@permission_required(CHANGE)
def item_ip_add(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = IpAddressForm(request.POST, auto_id="ip_%s")
    if form.is_valid():
        try:
            ip = ip_address_add(
                item=item,
                address=form.cleaned_data["address"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Address %(address)s added.") % {"address": ip.address})
            return redirect(item.get_absolute_url())
    return _detail_page(request, item, status=400, ip_form=form)


@require_POST
@permission_required(CHANGE)
def item_ip_remove(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = IpAddressForm(request.POST)
    ip = None
    if form.is_valid():
        ip = item.ip_addresses.filter(address=form.cleaned_data["address"].strip()).first()
    if ip is None:
        messages.error(request, _("This item has no such address."))
    else:
        ip_address_remove(ip=ip, actor=request.user, now=timezone.now())
        messages.success(request, _("Address %(address)s removed.") % {"address": ip.address})
    return redirect(item.get_absolute_url())


@require_POST
@permission_required(CHANGE)
def item_software_set(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = SoftwareForm(request.POST, auto_id="software_%s")
    if form.is_valid():
        try:
            row = software_set(
                item=item,
                name=form.cleaned_data["name"],
                version=form.cleaned_data["version"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(software)s recorded.") % {"software": row})
            return redirect(item.get_absolute_url())
    return _detail_page(request, item, status=400, software_form=form)


@require_POST
@permission_required(CHANGE)
def item_software_remove(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = SoftwareRemoveForm(request.POST)
    row = item.software.filter(name=form.cleaned_data["name"]).first() if form.is_valid() else None
    if row is None:
        messages.error(request, _("This item has no such software."))
    else:
        software_remove(software=row, actor=request.user, now=timezone.now())
        messages.success(request, _("%(software)s removed.") % {"software": row.name})
    return redirect(item.get_absolute_url())


# --- Secrets --------------------------------------------------------------------


@sensitive_post_parameters("value")
@require_POST
@permission_required(CHANGE)
def item_secret_store(request: HttpRequest, reference: str) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    form = SecretForm(request.POST, auto_id="secret_%s")
    if form.is_valid():
        try:
            secret = secret_store(
                item=item,
                label=form.cleaned_data["label"],
                value=form.cleaned_data["value"],
                actor=request.user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Secret “%(label)s” stored.") % {"label": secret.label})
            return redirect(item.get_absolute_url())
    return _detail_page(request, item, status=400, secret_form=form)


@require_POST
@permission_required(CHANGE)
def item_secret_remove(request: HttpRequest, reference: str, public_id: UUID) -> HttpResponse:
    item = item_get(user=request.user, reference=reference)
    secret = secret_get(user=request.user, item=item, public_id=public_id)
    secret_remove(secret=secret, actor=request.user, now=timezone.now())
    messages.success(request, _("Secret “%(label)s” removed.") % {"label": secret.label})
    return redirect(item.get_absolute_url())


@sensitive_variables("value")
@never_cache
@require_POST
@permission_required(REVEAL)
def item_secret_reveal(request: HttpRequest, reference: str, public_id: UUID) -> HttpResponse:
    """Decrypt and show one secret, once: the answer to the POST is the page
    itself (not cached, nothing in its URL), and the reveal is on the item's
    history with who and why."""
    item = item_get(user=request.user, reference=reference)
    secret = secret_get(user=request.user, item=item, public_id=public_id)
    form = RevealForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        value = secret_reveal(secret=secret, actor=request.user, now=timezone.now(), reason=reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(item.get_absolute_url())
    context = {"item": item, "secret": secret, "value": value}
    response = render(request, "inventory/items/secret_reveal.html", context)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    response["Referrer-Policy"] = "no-referrer"
    return response
