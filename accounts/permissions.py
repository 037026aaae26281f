"""The shared permission class of the API.

A view declares per HTTP method the token scope it needs (`scopes`), the
permission a staff session user needs (`staff_perms`, None meaning any staff
member), and which methods customer users may call (`customer_methods`; their
objects are then limited by the selectors, foreign ones answer 404)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.api_auth import TokenPrincipal


class HasScope(BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method not in view.allowed_methods:
            # No scope makes a missing method exist: the view answers 405.
            return True
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        if isinstance(user, TokenPrincipal):
            scope = getattr(view, "scopes", {}).get(method)
            return scope is not None and user.has_scope(scope)
        if getattr(user, "customer_id", None):
            return method in getattr(view, "customer_methods", set())
        if not user.is_staff:
            return False
        perms = getattr(view, "staff_perms", {})
        if method not in perms and method not in getattr(view, "scopes", {}):
            return False
        perm = perms.get(method)
        return perm is None or user.has_perm(perm)
