from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest
from django.test import Client

from tests.conftest import IN_CI

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "nl" / "LC_MESSAGES"


def test_the_dutch_catalogue_is_complete() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural)
        for e in polib.pofile(str(LOCALE / "django.po"))
        if not e.obsolete
    }
    mo = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural)
        for e in polib.mofile(str(LOCALE / "django.mo"))
    }
    mo.pop((None, ""), None)
    assert mo == po, "run `make messages` to recompile django.mo"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """makemessages over a copy of the source finds no msgid the catalogue lacks."""
    if shutil.which("xgettext") is None:
        if IN_CI:
            pytest.fail("CI=true and GNU gettext (xgettext) is missing")
        pytest.skip("needs GNU gettext (apt-get install gettext)")
    root = LOCALE.parents[2]
    copy = tmp_path / "src"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", "var", ".git", "node_modules", "__pycache__", "tests"
        ),
    )
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "nl",
            "--no-obsolete",
            "-i",
            "var/*",
        ],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/nl/LC_MESSAGES/django.po"))}
    known = {
        e.msgid for e in polib.pofile(str(LOCALE / "django.po")) if e.msgstr or e.msgstr_plural
    }
    assert sorted(fresh - known) == [], "run `make messages` and translate the new strings"


def test_a_dutch_browser_gets_dutch_pages(db: None) -> None:
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9")
    assert 'lang="nl"' in page.content.decode()
    assert "Inloggen" in page.content.decode()
