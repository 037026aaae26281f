"""System checks of Network (secret key configuration).

An invalid NETWORK_SECRET_KEY is an error in every `check` (also the one
before `migrate` and `runserver`): storing or revealing any secret would
fail. An unset key is only a deployment warning: the key derived from
SECRET_KEY works, but rotating SECRET_KEY would lock every stored secret."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security)
def network_secret_key_valid(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    key = settings.NETWORK_SECRET_KEY
    if not key:
        return []
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return [
            Error(
                "NETWORK_SECRET_KEY is not a valid Fernet key.",
                hint=(
                    "It must be 32 url-safe base64-encoded bytes; generate one with "
                    'python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"'
                ),
                id="inventory.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def network_secret_key_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.NETWORK_SECRET_KEY:
        return []
    return [
        CheckWarning(
            "NETWORK_SECRET_KEY is not set: stored server passwords are encrypted with a "
            "key derived from SECRET_KEY.",
            hint=(
                "Set NETWORK_SECRET_KEY to a Fernet key before storing secrets; rotating "
                "SECRET_KEY would otherwise make every stored secret unreadable."
            ),
            id="inventory.W001",
        )
    ]
