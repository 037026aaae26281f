"""Software version comparison, pure: is an installed version behind the
newest known one? Versions are compared part by part, numbers as numbers
("1.10" is newer than "1.9"), a letter after a number is a patch level ("1.1.1" < "1.1.1w"), and
a pre-release tag sorts before the release ("8.2.0-rc1" < "8.2.0")."""

from __future__ import annotations

import re

_PART = re.compile(r"\d+|[a-zA-Z]+")
# Spelled-out tags only: a trailing letter is a patch level (OpenSSL 1.1.1w).
_PRE = {"dev", "alpha", "beta", "rc", "pre", "preview"}


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    key: list[tuple[int, int, str]] = []
    for part in _PART.findall(version.strip().lstrip("vV")):
        if part.isdigit():
            key.append((2, int(part), ""))
        elif part.lower() in _PRE:
            key.append((0, 0, part.lower()))
        else:
            key.append((1, 0, part.lower()))
    # A release outranks its pre-releases: pad with a marker between the two.
    key.append((1, -1, ""))
    return tuple(key)


def is_behind(installed: str, latest: str) -> bool:
    if not installed.strip() or not latest.strip():
        return False
    return version_key(installed) < version_key(latest)
