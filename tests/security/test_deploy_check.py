"""`manage.py check --deploy` is clean in production: DEBUG off, a real
SECRET_KEY and NETWORK_SECRET_KEY, and exactly the HTTPS settings that
docs/deployment.md ("Behind a TLS proxy") tells the operator to set, read
from that document, so the document and the check cannot drift apart. Each
documented line is needed: leaving any one out brings a warning back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
# Settings of this test run that must not reach the checked process.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG")
CLEAN = "System check identified no issues"


def documented_proxy_settings() -> dict[str, str]:
    """The variables of the first shell block under "Behind a TLS proxy"."""
    text = DOC.read_text()
    section = text.split("## Behind a TLS proxy", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "no shell block under 'Behind a TLS proxy'"
    values = {}
    for line in block.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def production(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environ.update(
        VAR_DIR=str(tmp_path),
        DEBUG="false",
        SECRET_KEY="Zq9$x-k2Lm" * 6,
        NETWORK_SECRET_KEY="MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=",
        **documented_proxy_settings(),
    )
    for name, value in changes.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def check_deploy(environ: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_document_names_the_https_settings() -> None:
    documented = documented_proxy_settings()
    assert documented["SECURE_SSL_REDIRECT"] == "true"
    assert int(documented["SECURE_HSTS_SECONDS"]) > 0
    assert documented["SITE_URL"].startswith("https://")


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path: Path) -> None:
    process = check_deploy(production(tmp_path))
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 0, output
    assert CLEAN in output, output


# Each documented HTTPS line, and the two keys, left out (or DEBUG on): the
# warning that comes back. Run in parallel: each is a fresh Django process.
WITHOUT = {
    "SECURE_SSL_REDIRECT": "security.W008",
    "SESSION_COOKIE_SECURE": "security.W012",
    "CSRF_COOKIE_SECURE": "security.W016",
    "SECURE_HSTS_SECONDS": "security.W004",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "security.W005",
    "SECURE_HSTS_PRELOAD": "security.W021",
    "NETWORK_SECRET_KEY": "inventory.W001",
    "DEBUG": "security.W018",
}


def test_leaving_out_any_of_it_is_reported(tmp_path: Path) -> None:
    documented = documented_proxy_settings()
    running = {}
    for name in WITHOUT:
        assert name in documented or name in ("NETWORK_SECRET_KEY", "DEBUG")
        change: dict[str, str | None] = {name: "true" if name == "DEBUG" else None}
        running[name] = check_deploy(production(tmp_path / name.lower(), **change))
    for name, process in running.items():
        output = process.communicate(timeout=120)[0]
        assert process.returncode != 0 and WITHOUT[name] in output, (name, output)


@pytest.mark.parametrize("value", ["yes please", "0x10"])
def test_a_mistyped_https_setting_stops_start_up(tmp_path: Path, value: str) -> None:
    environ = production(tmp_path, SECURE_SSL_REDIRECT=value, SECURE_HSTS_SECONDS=value)
    process = check_deploy(environ)
    output = process.communicate(timeout=120)[0]
    assert process.returncode != 0
    assert "must be" in output
