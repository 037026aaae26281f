"""The security audit trail: logins (also failed ones), logouts and every change
of what a person or a client may do, written as events (events.Event) on the
user, group or API token concerned, and listed under Events in the Django admin
(filter by kind).

The receivers hang on Django's auth signals, on the user row and on the
many-to-many tables of groups and permissions, so every path is covered: the
pages, the Django admin, a management command, the shell. Who acted is the user
of the request being served (AuditActorMiddleware), else "system". Passwords,
API keys and session ids are never recorded.

Kinds (AUDIT_KINDS): auth.login, auth.login_failed, auth.logout,
auth.flags_changed (is_active, is_staff, is_superuser), auth.groups_changed,
auth.permissions_changed (a user's own permissions),
auth.group_permissions_changed (a role's permissions), api_token.created,
api_token.revoked. Revealing a network secret is item.secret_revealed
(inventory.item_services.secret_reveal)."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services import login_failure_record, login_failures_clear
from events.services import event_record

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGOUT = "auth.logout"
FLAGS_CHANGED = "auth.flags_changed"
GROUPS_CHANGED = "auth.groups_changed"
PERMISSIONS_CHANGED = "auth.permissions_changed"
GROUP_PERMISSIONS_CHANGED = "auth.group_permissions_changed"
TOKEN_CREATED = "api_token.created"  # noqa: S105 (an event kind)
TOKEN_REVOKED = "api_token.revoked"  # noqa: S105
SECRET_REVEALED = "item.secret_revealed"  # noqa: S105
AUDIT_KINDS = (
    LOGIN,
    LOGIN_FAILED,
    LOGOUT,
    FLAGS_CHANGED,
    GROUPS_CHANGED,
    PERMISSIONS_CHANGED,
    GROUP_PERMISSIONS_CHANGED,
    TOKEN_CREATED,
    TOKEN_REVOKED,
    SECRET_REVEALED,
)
FLAGS = ("is_active", "is_staff", "is_superuser")

_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)
_suppressed: ContextVar[bool] = ContextVar("audit_suppressed", default=False)


# --- Who acted, and from where ----------------------------------------------------


class AuditActorMiddleware:
    """Keeps the request being served at hand for the receivers below, which
    Django calls without one (a group added in the admin, a token revoked)."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_actor() -> Any:
    """The signed-in user (or API client) of the current request, or None."""
    request = _request.get()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


@contextmanager
def audit_suppressed() -> Iterator[None]:
    """For code-defined data only: syncing the role table after a migration is
    not a person's decision (the role table itself is reviewed as code)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def client_address(request: HttpRequest | None) -> str | None:
    """The caller's IP address. Behind the TLS proxy (SECURE_PROXY_SSL_HEADER)
    every request comes from the proxy, so the address is the last entry of
    X-Forwarded-For, the one the proxy itself added; earlier entries are what
    the client claimed and are ignored."""
    if request is None:
        return None
    candidates = []
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.append(forwarded.rsplit(",", 1)[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _record(*, obj: models.Model, kind: str, actor: Any, data: dict[str, Any]) -> None:
    if _suppressed.get():
        return
    event_record(obj=obj, kind=kind, actor=actor, now=timezone.now(), data=data)


# --- Logins --------------------------------------------------------------------------


def _logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    login_failures_clear(username=user.get_username(), now=timezone.now())
    _record(obj=user, kind=LOGIN, actor=user, data={"address": client_address(request)})


def _logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is None or getattr(user, "pk", None) is None:
        return
    _record(obj=user, kind=LOGOUT, actor=user, data={"address": client_address(request)})


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Counts towards the lock-out (accounts.backends) and is audited on the
    user the name belongs to, or on the failure row for a name nobody has.
    `credentials` arrive with the password already masked; only the name is kept."""
    username = str(credentials.get(User.USERNAME_FIELD) or "")[:150]
    if not username or getattr(request, "login_locked", False):
        # Refused by the lock-out: no password was checked, so it neither
        # counts (the lock runs from the last real failure) nor is audited.
        return
    address = client_address(request)
    failure = login_failure_record(username=username, ip_address=address, now=timezone.now())
    user = User.objects.filter(username=username).first()
    data = {"username": username, "address": address}
    _record(obj=user or failure, kind=LOGIN_FAILED, actor="anonymous", data=data)


# --- is_active, is_staff, is_superuser --------------------------------------------------


def _user_saving(sender: Any, instance: User, raw: bool, update_fields: Any, **kwargs: Any) -> None:
    # A login touches only last_login (and a password rehash only password):
    # those saves cost no extra query.
    if raw or _suppressed.get():
        return
    if update_fields is not None and not set(update_fields) & set(FLAGS):
        return
    if instance._state.adding:
        before = dict.fromkeys(FLAGS, False)
        before["is_active"] = instance.is_active  # a new account is not an elevation
    else:
        row = User.objects.filter(pk=instance.pk).values(*FLAGS).first()
        if row is None:
            return
        before = row
    changed = {
        flag: [before[flag], getattr(instance, flag)]
        for flag in FLAGS
        if before[flag] != getattr(instance, flag)
    }
    instance._audit_flags = changed  # type: ignore[attr-defined]


def _user_saved(sender: Any, instance: User, raw: bool, created: bool, **kwargs: Any) -> None:
    changed = instance.__dict__.pop("_audit_flags", None)
    if changed:
        data: dict[str, Any] = {"changed": changed}
        if created:
            data["created"] = True
        _record(obj=instance, kind=FLAGS_CHANGED, actor=current_actor(), data=data)


# --- Groups and permissions -------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    """One many-to-many table: `owner` gets or loses `granted` (a user its
    groups or permissions, a group its permissions)."""

    kind: str
    through: type[models.Model]
    owner: type[models.Model]
    owner_field: str
    granted: type[models.Model]
    granted_field: str


def _links() -> list[_Link]:
    return [
        _Link(GROUPS_CHANGED, User.groups.through, User, "user", Group, "group"),
        _Link(
            PERMISSIONS_CHANGED,
            User.user_permissions.through,
            User,
            "user",
            Permission,
            "permission",
        ),
        _Link(
            GROUP_PERMISSIONS_CHANGED,
            Group.permissions.through,
            Group,
            "group",
            Permission,
            "permission",
        ),
    ]


def _labels(model: type[models.Model], pks: set[int]) -> dict[int, str]:
    if model is Permission:
        return {
            pk: f"{app}.{codename}"
            for pk, app, codename in Permission.objects.filter(pk__in=pks).values_list(
                "pk", "content_type__app_label", "codename"
            )
        }
    return dict(Group.objects.filter(pk__in=pks).values_list("pk", "name"))


def _link_changed(link: _Link) -> Callable[..., None]:
    def receiver(
        sender: Any,
        instance: models.Model,
        action: str,
        reverse: bool,
        pk_set: set[int] | None,
        **kwargs: Any,
    ) -> None:
        if _suppressed.get() or action not in ("post_add", "pre_remove", "pre_clear"):
            return
        # The instance is the owner (user.groups.add) or, from the other side,
        # the granted object (group.user_set.add).
        own, other = (
            (link.granted_field, link.owner_field)
            if reverse
            else (
                link.owner_field,
                link.granted_field,
            )
        )
        if action == "post_add":
            pairs = [(instance.pk, pk) for pk in pk_set or ()]
        else:
            # What is actually there and about to go.
            rows = link.through._default_manager.filter(**{f"{own}_id": instance.pk})
            if pk_set is not None:
                rows = rows.filter(**{f"{other}_id__in": pk_set})
            pairs = list(rows.values_list(f"{own}_id", f"{other}_id"))
        if reverse:
            pairs = [(owner, granted) for granted, owner in pairs]
        if not pairs:
            return
        by_owner: dict[int, set[int]] = defaultdict(set)
        for owner_pk, granted_pk in pairs:
            by_owner[owner_pk].add(granted_pk)
        labels = _labels(link.granted, {pk for _, pk in pairs})
        owners = (
            {instance.pk: instance}
            if not reverse
            else link.owner._default_manager.in_bulk(list(by_owner))
        )
        key = "added" if action == "post_add" else "removed"
        actor = current_actor()
        for owner_pk, granted in sorted(by_owner.items()):
            owner = owners.get(owner_pk)
            if owner is None:
                continue
            names = sorted(labels.get(pk, str(pk)) for pk in granted)
            _record(obj=owner, kind=link.kind, actor=actor, data={key: names})

    return receiver


# --- Wiring ----------------------------------------------------------------------------


def connect() -> None:
    """Called once from AccountsConfig.ready()."""
    user_logged_in.connect(_logged_in, dispatch_uid="accounts.audit.login")
    user_logged_out.connect(_logged_out, dispatch_uid="accounts.audit.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="accounts.audit.login_failed")
    pre_save.connect(_user_saving, sender=User, dispatch_uid="accounts.audit.user_saving")
    post_save.connect(_user_saved, sender=User, dispatch_uid="accounts.audit.user_saved")
    for link in _links():
        # Connected per table: other many-to-many tables keep Django's fast
        # path that sends no signals.
        m2m_changed.connect(
            _link_changed(link), sender=link.through, weak=False, dispatch_uid=f"audit.{link.kind}"
        )
