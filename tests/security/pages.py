"""Every page of the project, for the header, inline-script and CSRF probes:
the URL patterns found by walking the resolver (tests/security/
test_tenant_isolation.py), filled with customer 2000's objects from the
tenant-isolation world, each requested by someone who may open it, and a
scanner for what the Content-Security-Policy forbids in HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.test import Client

from accounts.models import User
from tests.base import make_user
from tests.security.test_tenant_isolation import (
    CUSTOMER_FACING,
    Route,
    _dummy_url,
    all_routes,
    area,
    exemption,
    url_of,
)
from tests.security.world import World

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates"]


@dataclass(frozen=True)
class Page:
    route: Route
    url: str
    who: str  # "staff", "customer" or "anonymous"


def superuser(username: str = "sec-admin") -> User:
    admin = make_user(username)
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    return admin


def pages(world: World, *, api: bool = False) -> list[Page]:
    """Each pattern once, filled so that its user reaches the object: staff
    pages and the admin as a superuser, the portal as customer2 (customer
    2000's own user), the public pages (login, password reset) anonymously.
    The API only with api=True."""
    found = []
    for route in all_routes():
        rule = exemption(route)
        if rule is not None:
            admin_side = route.namespace == "admin" or route.route.startswith("admin/")
            found.append(Page(route, _dummy_url(route), "staff" if admin_side else "anonymous"))
            continue
        kind = area(route)
        if kind == "api" and not api:
            continue
        url = url_of(route, world.foreign)
        if kind == "customer" and route.name not in CUSTOMER_FACING:
            found.append(Page(route, url, "customer"))
        else:
            found.append(Page(route, url, "staff"))
    return found


def clients(world: World, *, enforce_csrf_checks: bool = False) -> dict[str, Client]:
    staff, customer, anonymous = (Client(enforce_csrf_checks=enforce_csrf_checks) for _ in "sca")
    staff.force_login(superuser())
    customer.force_login(world.foreign.user)
    return {"staff": staff, "customer": customer, "anonymous": anonymous}


# --- What the Content-Security-Policy forbids -------------------------------------------

# Script types a browser does not run: data for a script file to read.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """Finds inline scripts (a <script> without src, or with a body), event
    handler attributes (onclick=, htmx's hx-on), javascript: URLs and, unless
    styles=False, inline styles (<style>, style=). The policy blocks all of
    them, so each is either a hole (with 'unsafe-inline') or a broken page."""

    def __init__(self, *, styles: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.styles = styles
        self.found: list[str] = []
        self._script: str | None = None  # "src", "data" or None outside a script

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            text = (value or "").strip().lower()
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…>: an inline event handler")
            elif self.styles and name == "style":
                self.found.append(f"<{tag} style=…>: an inline style")
            if re.sub(r"[\s\x00-\x1f]", "", text).startswith(("javascript:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value!r}>: a javascript: URL")
            if name in ("hx-vals", "hx-headers") and text.startswith(("js:", "javascript:")):
                self.found.append(f"<{tag} {name}={value!r}>: evaluated by htmx")
        if tag == "script":
            attributes = dict(attrs)
            kind = (attributes.get("type") or "").strip().lower()
            if kind in DATA_SCRIPT_TYPES:
                self._script = "data"
            elif attributes.get("src"):
                self._script = "src"
            else:
                self.found.append("<script> without src: an inline script")
                self._script = "inline"
        elif tag == "style" and self.styles:
            self.found.append("<style>: an inline style sheet")

    def handle_data(self, data: str) -> None:
        if self._script == "src" and data.strip():
            self.found.append("<script src=…> with a body")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def inline_code(html: str, *, styles: bool = True) -> list[str]:
    parser = InlineCode(styles=styles)
    parser.feed(html)
    parser.close()
    return parser.found


_TEMPLATE_COMMENT = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
_TEMPLATE_TAG = re.compile(r"{%.*?%}", re.S)
_TEMPLATE_VARIABLE = re.compile(r"{{.*?}}", re.S)


def template_as_html(source: str) -> str:
    """A template with its tags taken out and its variables as plain text, so
    an HTML parser sees the markup the template writes."""
    source = _TEMPLATE_COMMENT.sub("", source)
    source = _TEMPLATE_TAG.sub("t", source)
    return _TEMPLATE_VARIABLE.sub("v", source)


def templates(suffix: str = ".html") -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob(f"*{suffix}"))


def is_email(path: Path) -> bool:
    return "emails" in path.relative_to(ROOT).parts


# A password the policy accepts, for tests that log in through the forms.
PASSWORD = "correct horse battery"


def with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user
