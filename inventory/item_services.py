"""Writes of configuration items: the item's fields (with field-level history
in every event's data["changes"]), its status (only along ITEM_TRANSITIONS),
its IP addresses, installed software and stored secrets.

Every write runs in a transaction and records an event on the item, so
history_of(item) is the item's full history: who, when, which field, old and
new value. Secret values never reach an event, a log line or an exception
message: only the label does."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from events.services import actor_label, event_record, fields_apply
from inventory import crypto
from inventory.models import (
    ITEM_TRANSITIONS,
    ConfigurationItem,
    InstalledSoftware,
    IpAddress,
    ItemStatus,
    Secret,
    SoftwareRelease,
)
from inventory.versions import is_behind

logger = logging.getLogger(__name__)

REVEAL_PERMISSION = "inventory.reveal_secret"
# What item_create takes; item_update takes the same but the status, which
# changes only through item_transition.
ITEM_FIELDS = [
    "hostname",
    "serial_number",
    "kind",
    "machine_type",
    "customer",
    "location",
    "rack",
    "os_name",
    "os_version",
    "status",
    "redundancy_group",
    "product",
    "notes",
]
_TEXT_FIELDS = {"machine_type", "rack", "os_name", "os_version", "redundancy_group", "notes"}
MAX_SECRET_LENGTH = 2000

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# --- Pure rules -----------------------------------------------------------------


def hostname_normalise(value: str | None) -> str | None:
    """Lower case, without surrounding blanks or the root's trailing dot;
    blank becomes None (the database allows many items without a hostname,
    never two with the same one)."""
    text = (value or "").strip().lower().rstrip(".")
    return text or None


def hostname_is_valid(name: str) -> bool:
    """RFC 1123 host names: dot-separated labels of letters, digits and
    hyphens (not at either end), 1-63 characters each, 253 in all. A name
    whose last label is all digits would read as an IP address: refused."""
    if len(name) > 253:
        return False
    labels = name.split(".")
    return all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def serial_normalise(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def serial_is_valid(serial: str) -> bool:
    """A serial number addresses the item in URLs while it has no hostname
    (/network/items/<serial>/, the API): a slash or a name of dots only would
    make that address ambiguous."""
    return "/" not in serial and serial.strip(".") != ""


def address_parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """A single host address (IPv4 or IPv6, no prefix length). An IPv4-mapped
    IPv6 address is its IPv4 address, so the same host cannot be stored twice
    in two spellings."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValidationError(
            {"address": _("Enter a valid IPv4 or IPv6 address (without a prefix length).")}
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_multicast or str(address) == "255.255.255.255":
        raise ValidationError({"address": _("This is not the address of a single machine.")})
    return address


# --- Items ----------------------------------------------------------------------


def _prepared(fields: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown item fields: {sorted(unknown)}")
    values = dict(fields)
    if "hostname" in values:
        values["hostname"] = hostname_normalise(values["hostname"])
    if "serial_number" in values:
        values["serial_number"] = serial_normalise(values["serial_number"])
    for name in _TEXT_FIELDS & values.keys():
        values[name] = (values[name] or "").strip()
    return values


def _validate(item: ConfigurationItem) -> None:
    if item.hostname is None and item.serial_number is None:
        raise ValidationError({"hostname": _("Give a hostname or a serial number (or both).")})
    if item.hostname is not None and not hostname_is_valid(item.hostname):
        raise ValidationError(
            {
                "hostname": _(
                    "Enter a valid hostname: letters, digits and hyphens, labels "
                    "separated by dots (e.g. web01.example.nl)."
                )
            }
        )
    if item.serial_number is not None and not serial_is_valid(item.serial_number):
        raise ValidationError(
            {"serial_number": _("A serial number cannot contain “/” or consist of dots only.")}
        )
    # Field shapes and choices; the unique rules follow with messages of our own.
    item.full_clean(validate_unique=False, validate_constraints=False)
    others = ConfigurationItem.objects.exclude(pk=item.pk)
    if item.hostname is not None and others.filter(hostname=item.hostname).exists():
        raise ValidationError({"hostname": _("This hostname is already in use.")})
    if item.serial_number is not None and others.filter(serial_number=item.serial_number).exists():
        raise ValidationError({"serial_number": _("This serial number is already in use.")})


def _save(item: ConfigurationItem) -> None:
    """Save; a concurrent writer that took the hostname or serial number
    between the check and the insert gets the same message as the check."""
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as error:
        text = str(error).lower()
        if "serial" in text:
            raise ValidationError(
                {"serial_number": _("This serial number is already in use.")}
            ) from None
        if "hostname" in text:
            raise ValidationError({"hostname": _("This hostname is already in use.")}) from None
        raise


def _visible_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """A new item's history lists the fields it was given, not every empty one."""
    return {name: values for name, values in changes.items() if values[1] not in (None, "")}


@transaction.atomic
def item_create(*, actor: Any, now: datetime, **fields: Any) -> ConfigurationItem:
    """Register an item (e.g. a server received into stock by serial number,
    or a VPS with its hostname). Fields are those of ITEM_FIELDS; the status
    defaults to "in stock"."""
    values = _prepared(fields, ITEM_FIELDS)
    values["status"] = values.get("status") or ItemStatus.IN_STOCK
    item = ConfigurationItem(created_at=now, updated_at=now)
    changes = fields_apply(item, values, created=True)
    _validate(item)
    _save(item)
    event_record(
        obj=item,
        kind="item.created",
        actor=actor,
        now=now,
        to_state=item.status,
        data={"changes": _visible_changes(changes)},
    )
    return item


@transaction.atomic
def item_update(
    *, item: ConfigurationItem, actor: Any, now: datetime, **fields: Any
) -> ConfigurationItem:
    """Change an item's fields; one event carries every changed field with its
    old and new value. A `status` among the fields goes through
    item_transition (its own event, the transition rules apply)."""
    status = fields.pop("status", None)
    values = _prepared(fields, [name for name in ITEM_FIELDS if name != "status"])
    item = ConfigurationItem.objects.select_for_update().get(pk=item.pk)
    changes = fields_apply(item, values, created=False)
    if changes:
        _validate(item)
        item.updated_at = now
        _save(item)
        if "customer" in changes:
            _addresses_follow_customer(item)
        event_record(obj=item, kind="item.updated", actor=actor, now=now, data={"changes": changes})
    if status and status != item.status:
        item = item_transition(item=item, status=status, actor=actor, now=now)
    return item


def _addresses_follow_customer(item: ConfigurationItem) -> None:
    """Private addresses are unique per customer network: moving the item to
    another customer moves its addresses into that network."""
    try:
        with transaction.atomic():
            IpAddress.objects.filter(item=item).update(customer_key=item.customer_id or 0)
    except IntegrityError:
        raise ValidationError(
            {
                "customer": _(
                    "A private address of this item is already in use in that customer's network."
                )
            }
        ) from None


@transaction.atomic
def item_transition(
    *, item: ConfigurationItem, status: str, actor: Any, now: datetime, reason: str = ""
) -> ConfigurationItem:
    """Move an item along ITEM_TRANSITIONS (ordered → in stock → installed →
    in production …; decommissioned is final)."""
    if status not in ItemStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    item = ConfigurationItem.objects.select_for_update().get(pk=item.pk)
    old = item.status
    if status == old:
        return item
    if status not in ITEM_TRANSITIONS[old]:
        raise ValidationError(
            {
                "status": _("An item cannot go from “%(old)s” to “%(new)s”.")
                % {"old": ItemStatus(old).label, "new": ItemStatus(status).label}
            }
        )
    item.status = status
    item.updated_at = now
    item.save(update_fields=["status", "updated_at"])
    event_record(
        obj=item,
        kind="item.status_changed",
        actor=actor,
        now=now,
        from_state=old,
        to_state=status,
        reason=reason,
        data={"changes": {"status": [old, status]}},
    )
    return item


def _touch(item: ConfigurationItem, now: datetime) -> None:
    """Addresses and software are part of the item: changing them is a change
    of the item (its updated_at, which API clients sync on)."""
    ConfigurationItem.objects.filter(pk=item.pk).update(updated_at=now)
    item.updated_at = now


# --- IP addresses ---------------------------------------------------------------


def _address_holder(address: str, *, private: bool, customer_key: int) -> IpAddress | None:
    holders = IpAddress.objects.filter(address=address, is_private=private)
    if private:
        holders = holders.filter(customer_key=customer_key)
    return holders.select_related("item").first()


def _in_use(holder: IpAddress, item: ConfigurationItem) -> ValidationError:
    if holder.item_id == item.pk:
        return ValidationError({"address": _("This item already has this address.")})
    return ValidationError(
        {
            "address": _("This address is already in use by %(item)s.")
            % {"item": holder.item.reference}
        }
    )


@transaction.atomic
def ip_address_add(
    *, item: ConfigurationItem, address: str, actor: Any, now: datetime
) -> IpAddress:
    """Public addresses are unique everywhere; private ones (RFC 1918, ULA,
    loopback, link-local …) only within one customer's network, where 0
    stands for the company's own machines."""
    parsed = address_parse(address)
    text = str(parsed)
    private = parsed.is_private
    key = item.customer_id or 0
    holder = _address_holder(text, private=private, customer_key=key)
    if holder is not None:
        raise _in_use(holder, item)
    try:
        with transaction.atomic():
            ip = IpAddress.objects.create(
                item=item, address=text, is_private=private, customer_key=key
            )
    except IntegrityError:
        holder = _address_holder(text, private=private, customer_key=key)
        if holder is None:
            raise
        raise _in_use(holder, item) from None
    _touch(item, now)
    event_record(
        obj=item,
        kind="item.ip_added",
        actor=actor,
        now=now,
        data={"changes": {"ip_addresses": [None, text]}},
    )
    return ip


@transaction.atomic
def ip_address_remove(*, ip: IpAddress, actor: Any, now: datetime) -> None:
    item = ip.item
    address = str(ip.address)
    ip.delete()
    _touch(item, now)
    event_record(
        obj=item,
        kind="item.ip_removed",
        actor=actor,
        now=now,
        data={"changes": {"ip_addresses": [address, None]}},
    )


@transaction.atomic
def ip_addresses_set(
    *, item: ConfigurationItem, addresses: list[str], actor: Any, now: datetime
) -> None:
    """Make the item's addresses exactly `addresses` (the API's PATCH): the
    missing ones are added, the others removed, each with its own event."""
    wanted: list[str] = []
    for address in addresses:
        try:
            text = str(address_parse(address))
        except ValidationError as error:
            raise ValidationError(
                {"ip_addresses": [f"{address}: {m}" for m in error.messages]}
            ) from None
        if text not in wanted:
            wanted.append(text)
    for ip in list(item.ip_addresses.all()):
        if str(ip.address) not in wanted:
            ip_address_remove(ip=ip, actor=actor, now=now)
    present = {str(ip.address) for ip in item.ip_addresses.all()}
    for text in wanted:
        if text in present:
            continue
        try:
            ip_address_add(item=item, address=text, actor=actor, now=now)
        except ValidationError as error:
            raise ValidationError(
                {"ip_addresses": [f"{text}: {m}" for m in error.messages]}
            ) from None


# --- Installed software ---------------------------------------------------------


def _latest(name: str) -> str:
    release = SoftwareRelease.objects.filter(name__iexact=name).first()
    return release.version if release else ""


@transaction.atomic
def software_set(
    *, item: ConfigurationItem, name: str, version: str, actor: Any, now: datetime
) -> InstalledSoftware:
    """Record that `name` is installed on the item in `version` (new or
    changed). Whether it is behind the newest known release is kept on the
    row, so "machines behind" is an index read."""
    name, version = name.strip(), version.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Name the software.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    if not version:
        errors["version"] = _("Give the installed version.")
    elif len(version) > 50:
        errors["version"] = _("At most 50 characters.")
    if errors:
        raise ValidationError(errors)
    latest = _latest(name)
    row = item.software.select_for_update().filter(name__iexact=name).first()
    old = row.version if row else None
    if row is None:
        row = InstalledSoftware(item=item)
    elif row.version == version and row.name == name and row.latest_version == latest:
        return row
    row.name = name
    row.version = version
    row.latest_version = latest
    row.behind = is_behind(version, latest)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # The same software recorded on this item by someone else just now.
        raise ValidationError(
            {"name": _("%(name)s was just recorded on this item by someone else.") % {"name": name}}
        ) from None
    if old != version:
        _touch(item, now)
        event_record(
            obj=item,
            kind="item.software_set",
            actor=actor,
            now=now,
            data={"changes": {f"software:{name}": [old, version]}},
        )
    return row


@transaction.atomic
def software_remove(*, software: InstalledSoftware, actor: Any, now: datetime) -> None:
    item = software.item
    name, version = software.name, software.version
    software.delete()
    _touch(item, now)
    event_record(
        obj=item,
        kind="item.software_removed",
        actor=actor,
        now=now,
        data={"changes": {f"software:{name}": [version, None]}},
    )


@transaction.atomic
def software_replace(
    *, item: ConfigurationItem, entries: list[tuple[str, str]], actor: Any, now: datetime
) -> None:
    """Make the item's software exactly `entries` of (name, version) (the
    API's PATCH); names compare case-insensitively."""
    wanted = {name.strip().lower() for name, _version in entries}
    for row in list(item.software.all()):
        if row.name.lower() not in wanted:
            software_remove(software=row, actor=actor, now=now)
    for name, version in entries:
        try:
            software_set(item=item, name=name, version=version, actor=actor, now=now)
        except ValidationError as error:
            raise ValidationError({"software": error.messages}) from None


# --- Secrets --------------------------------------------------------------------


@sensitive_variables("value")
@transaction.atomic
def secret_store(
    *, item: ConfigurationItem, label: str, value: str, actor: Any, now: datetime
) -> Secret:
    """Store (or replace) a credential of the item, encrypted. The event says
    which label was stored by whom, never the value."""
    label = label.strip()
    if not label:
        raise ValidationError({"label": _("Give the secret a label, e.g. root password.")})
    if len(label) > 100:
        raise ValidationError({"label": _("At most 100 characters.")})
    if not value:
        raise ValidationError({"value": _("Enter the secret.")})
    if len(value) > MAX_SECRET_LENGTH:
        raise ValidationError({"value": _("At most %(n)d characters.") % {"n": MAX_SECRET_LENGTH}})
    secret = item.secrets.select_for_update().filter(label=label).first()
    replaced = secret is not None
    if secret is None:
        secret = Secret(item=item, label=label)
    secret.ciphertext = crypto.encrypt(value)
    secret.created_by = actor if getattr(actor, "_meta", None) is not None else None
    secret.updated_at = now
    secret.save()
    event_record(
        obj=item,
        kind="item.secret_stored",
        actor=actor,
        now=now,
        data={"label": label, "replaced": replaced},
    )
    return secret


@transaction.atomic
def secret_remove(*, secret: Secret, actor: Any, now: datetime) -> None:
    item, label = secret.item, secret.label
    secret.delete()
    event_record(obj=item, kind="item.secret_removed", actor=actor, now=now, data={"label": label})


@sensitive_variables("value")
@transaction.atomic
def secret_reveal(*, secret: Secret, actor: Any, now: datetime, reason: str = "") -> str:
    """The decrypted value, for someone holding inventory.reveal_secret. Every
    reveal is an audit event (who, when, which secret, why) written before
    the value is handed out; the value itself is never recorded."""
    if not actor.has_perm(REVEAL_PERMISSION):
        raise PermissionDenied
    try:
        value = crypto.decrypt(secret.ciphertext)
    except crypto.InvalidToken:
        raise ValidationError(
            _(
                "This secret cannot be decrypted with the current key "
                "(NETWORK_SECRET_KEY changed?). Store it again."
            )
        ) from None
    event_record(
        obj=secret.item,
        kind="item.secret_revealed",
        actor=actor,
        now=now,
        reason=reason.strip()[:1000],
        data={"label": secret.label},
    )
    logger.info(
        "secret %r of %s revealed by %s", secret.label, secret.item.reference, actor_label(actor)
    )
    return value
