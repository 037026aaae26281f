"""Access decorators for server-rendered pages. Object-level access lives in
each app's selectors (`<kind>_get(user=..., ...)` returns the object or 404s)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

ViewFunc = Callable[..., HttpResponse]


def staff_required(view: ViewFunc) -> ViewFunc:
    """Staff pages: anonymous users go to the login page, customer users get a
    404 (the staff side does not exist for them)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_staff", False):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def customer_required(view: ViewFunc) -> ViewFunc:
    """Portal pages: only users tied to a customer; staff see the staff pages."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "customer_id", None):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def permission_required(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorator
