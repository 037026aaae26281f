"""Writes for customers, people and API clients."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Absence, ApiToken, Customer, LoginFailure, User
from accounts.scopes import parse_scopes
from events.services import event_record

CUSTOMER_FIELDS = (
    "name",
    "email",
    "phone",
    "is_managed",
    "sla_contract",
    "admin_arge_id",
    "active",
)


@transaction.atomic
def customer_upsert(
    *, number: str, data: dict[str, Any], actor: Any, now: datetime
) -> tuple[Customer, bool]:
    """Create or update the customer with this number (Admin.Arge is the master).
    Returns (customer, created). Locks the row so two syncs cannot interleave."""
    customer = Customer.objects.select_for_update().filter(number=number).first()
    created = customer is None
    if customer is None:
        customer = Customer(number=number)
    before = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
    for field in CUSTOMER_FIELDS:
        if field in data:
            setattr(customer, field, data[field])
    customer.full_clean()
    customer.save()
    changed = {
        field: [str(before[field]), str(getattr(customer, field))]
        for field in CUSTOMER_FIELDS
        if before[field] != getattr(customer, field)
    }
    if not created and "sla_contract" in changed:
        from tickets.services import customer_tickets_recontract

        customer_tickets_recontract(customer=customer, actor=actor, now=now)
    if created or changed:
        event_record(
            obj=customer,
            kind="customer.created" if created else "customer.updated",
            actor=actor,
            now=now,
            data={"changed": changed},
        )
    return customer, created


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str


@transaction.atomic
def api_token_create(*, name: str, scopes: str, created_by: User | None = None) -> IssuedToken:
    """Make a token; the key is returned once here and never stored in clear."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A token needs a name.")})
    if ApiToken.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A token with this name exists already.")})
    try:
        scope_list = parse_scopes(scopes)
    except ValueError as error:
        raise ValidationError({"scopes": str(error)}) from None
    key = "sd_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        prefix=key[:10],
        key_hash=_hash_key(key),
        scopes=scope_list,
        created_by=created_by,
    )
    # The audit names the token and its scopes, never the key.
    event_record(
        obj=token,
        kind="api_token.created",
        actor=created_by,
        now=token.created_at,
        data={"name": token.name, "scopes": scope_list},
    )
    return IssuedToken(token=token, key=key)


def api_token_authenticate(*, key: str, now: datetime) -> ApiToken | None:
    token = ApiToken.objects.filter(key_hash=_hash_key(key), revoked_at__isnull=True).first()
    if token is None:
        return None
    # Touch at most once a minute: a busy client must not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, now: datetime, actor: Any = None) -> bool:
    """Revoke the token; False when it was revoked already (nothing recorded)."""
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        event_record(
            obj=token,
            kind="api_token.revoked",
            actor=actor,
            now=now,
            data={"name": token.name, "scopes": token.scopes},
        )
    return bool(revoked)


def login_is_locked(*, username: str, ip_address: str | None, now: datetime) -> bool:
    """Locked when either the username or the address has had LOGIN_FAILURE_LIMIT
    failures within the lock-out window (so spraying one password over many
    accounts from one address is stopped too)."""
    since = now - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # An address gets more room: an office shares one address.
    return bool(ip_address) and recent.filter(ip_address=ip_address).count() >= limit * 4


def login_failure_record(*, username: str, ip_address: str | None, now: datetime) -> LoginFailure:
    return LoginFailure.objects.create(username=username.lower(), ip_address=ip_address, at=now)


def login_failures_clear(*, username: str, now: datetime) -> None:
    """A successful login clears the user's failures; old rows go too."""
    horizon = now - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    LoginFailure.objects.filter(Q(username=username.lower()) | Q(at__lt=horizon)).delete()


@transaction.atomic
def absence_create(
    *,
    user: User,
    starts_on: date,
    ends_on: date,
    substitute: User | None,
    reason: str,
    actor: Any,
    now: datetime,
) -> Absence:
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The absence cannot end before it starts.")})
    if substitute is not None and substitute.pk == user.pk:
        raise ValidationError({"substitute": _("Nobody can substitute for themselves.")})
    absence = Absence.objects.create(
        user=user, starts_on=starts_on, ends_on=ends_on, substitute=substitute, reason=reason
    )
    event_record(obj=absence, kind="absence.created", actor=actor, now=now)
    return absence
