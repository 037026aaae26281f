"""`Authorization: Token <key>` for integration clients."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiToken
from accounts.scopes import grants
from accounts.services import api_token_authenticate


class TokenPrincipal:
    """The caller behind an API token: an integration client, not a person. It
    sees every customer (it is the company's own system) within its scopes and
    holds no roles."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = True
    is_superuser = False
    is_integration = True
    customer_id = None
    pk = None
    id = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = f"api:{token.name}"

    def __str__(self) -> str:
        return self.username

    def has_scope(self, scope: str) -> bool:
        return grants(self.token.scopes, scope)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[TokenPrincipal, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        token = api_token_authenticate(key=key, now=timezone.now())
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
