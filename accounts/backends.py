"""Password authentication with the brute-force lock-out applied on every path
that checks a password: the login page, the Django admin's login, an
`authenticate()` anywhere else."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import client_address
from accounts.models import User
from accounts.services import login_is_locked


class ThrottledModelBackend(ModelBackend):
    """While a username or an address is locked out (accounts.services.
    login_is_locked) no password is checked, not even the right one: Django
    answers as for a wrong password and sends user_login_failed, which counts
    the attempt. The login page checks first itself, to say why (429)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        name = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if name is not None and not getattr(request, "login_lock_checked", False):
            locked = login_is_locked(
                username=str(name)[:150], ip_address=client_address(request), now=timezone.now()
            )
            if locked:
                if request is not None:
                    request.login_locked = True  # type: ignore[attr-defined]
                raise PermissionDenied
        return super().authenticate(request, username, password, **kwargs)
