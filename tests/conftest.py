"""Shared fixtures, and the rule for tests that need outside services: they run
when the service is reachable and are skipped with the reason otherwise;
under CI=true a missing service fails the test instead."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from functools import cache
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.base import Personas, make_personas

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
CHROMIUM = "/usr/bin/chromium"


def _port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@cache
def missing_service(marker: str) -> str | None:
    """Why the service behind `marker` cannot be used, or None when it can."""
    if marker == "postgres":
        if connection.vendor != "postgresql":
            return (
                "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk"
            )
    elif marker in ("redis", "worker"):
        if not _port_open(TEST_REDIS_URL, 6379):
            return f"needs Redis at {TEST_REDIS_URL}"
    elif marker == "browser":
        if not os.path.exists(CHROMIUM):
            return f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "needs the playwright package (make install)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "worker", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = missing_service(marker)
        if reason is None:
            continue
        if IN_CI:
            pytest.fail(f"CI=true and this test {reason}")
        pytest.skip(reason)


@pytest.fixture
def personas(db: None) -> Personas:
    return make_personas()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def token_client() -> object:
    """token_client("customers:read,tickets:write") → an APIClient with a token."""

    def make(scopes: str, name: str = "client") -> APIClient:
        issued = api_token_create(name=name, scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
        return client

    return make


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request with Accept-Language activates its language for the thread;
    every test starts from the default again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _isolated_media(tmp_path_factory: pytest.TempPathFactory, settings: object) -> Iterator[None]:
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))  # type: ignore[attr-defined]
    # Live counters: a shared cache (Redis) would carry them from test to test.
    settings.QUEUE_COUNTERS_SECONDS = 0  # type: ignore[attr-defined]
    settings.API_COUNT_SECONDS = 0  # type: ignore[attr-defined]
    yield
