from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from servicedesk.lib.env import env_bool, env_choice, env_float, env_int, env_list, env_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (lambda e: env_bool("X", False, environ=e), "maybe", "X must be true or false"),
        (lambda e: env_int("X", 1, environ=e), "ten", "X must be a whole number"),
        (lambda e: env_int("X", 1, minimum=1, environ=e), "0", "X must be at least 1"),
        (lambda e: env_int("X", 1, maximum=9, environ=e), "10", "X must be at most 9"),
        (lambda e: env_float("X", 0.5, minimum=0, maximum=1, environ=e), "2", "X must lie between"),
        (lambda e: env_choice("X", "a", {"a", "b"}, environ=e), "c", "X must be one of a, b"),
        (
            lambda e: env_url("X", "", {"redis"}, environ=e),
            "http://h",
            "X must be a URL with scheme",
        ),
    ],
)
def test_a_bad_value_names_the_variable(reader, value: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        reader({"X": value})


def test_good_values_and_defaults_are_read() -> None:
    assert env_bool("X", False, environ={"X": "Yes"}) is True
    assert env_bool("X", True, environ={}) is True
    assert env_int("X", 3, environ={"X": " 7 "}) == 7
    assert env_list("X", ["a"], environ={"X": "b, c,,"}) == ["b", "c"]
    assert env_list("X", ["a"], environ={}) == ["a"]
    assert env_url("X", "redis://d", {"redis"}, environ={"X": ""}) == "redis://d"


# Settings of this test run that must not leak into the fresh processes.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")


def run_django(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bad_environment_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    result = run_django("", VAR_DIR=str(tmp_path), DATABASE_URL="mysql://x/y")
    assert result.returncode != 0
    assert "DATABASE_URL must be a URL with scheme" in result.stderr
    result = run_django("", VAR_DIR=str(tmp_path), SECRET_KEY="short")
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_embedded_defaults_need_no_configuration(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.DATABASES['default']['OPTIONS']['init_command'])"
    )
    result = run_django(code, VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "sqlite3 filesystem:// PRAGMA journal_mode=WAL" in result.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_time_zone_and_languages() -> None:
    assert settings.TIME_ZONE == "Europe/Amsterdam"
    assert settings.USE_TZ is True
    assert [code for code, _ in settings.LANGUAGES] == ["en", "nl"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


def test_check_deploy_is_clean_but_for_the_https_settings(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environ.update(
        VAR_DIR=str(tmp_path),
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-Zq9$x" * 10,
        NETWORK_SECRET_KEY="MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=",
    )
    base = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    plain = subprocess.run(base, cwd=ROOT, env=environ, capture_output=True, text=True, check=False)
    reported = set(re.findall(r"\((\w+\.[WE]\d+)\)", plain.stderr))
    https_only = {"security.W004", "security.W008", "security.W012", "security.W016"}
    assert reported and reported <= https_only, plain.stderr
    environ.update(
        SECURE_SSL_REDIRECT="true",
        SESSION_COOKIE_SECURE="true",
        CSRF_COOKIE_SECURE="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
    )
    https = subprocess.run(base, cwd=ROOT, env=environ, capture_output=True, text=True, check=False)
    assert https.returncode == 0, https.stderr


def test_postgresql_sessions_plan_for_short_queries_on_fast_storage(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS']['options'])"
    )
    url = "postgres://postgres@127.0.0.1:5432/servicedesk"
    result = run_django(code, VAR_DIR=str(tmp_path), DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["-c", "random_page_cost=1.1", "-c", "jit=off"]
    result = run_django(
        code, VAR_DIR=str(tmp_path), DATABASE_URL=url, DB_JIT="true", DB_RANDOM_PAGE_COST="4"
    )
    assert result.stdout.split() == ["-c", "random_page_cost=4.0"]
