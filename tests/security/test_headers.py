"""Security headers on every page, and no inline code anywhere: the pages
(every URL pattern outside the API, filled as in the tenant-isolation probe)
answer with the Content-Security-Policy, frame denial, nosniff and the
referrer policy, HSTS over HTTPS when it is configured, and neither the
rendered pages nor the templates contain anything the policy blocks."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.security.pages import (
    ROOT,
    clients,
    inline_code,
    is_email,
    pages,
    template_as_html,
    templates,
)
from tests.security.world import World, make_world

SCRIPT_SOURCES = "script-src 'self';"
# Pages whose inline styles come from a package: the policy blocks them, which
# costs looks, not safety. Their scripts are checked like every page's.
PACKAGE_STYLES = {
    "api:docs": "drf-spectacular's Swagger UI: a <style> with three margin and box rules",
}


@pytest.fixture
def world(db: None) -> World:
    return make_world()


def header_problems(response: object, url: str) -> list[str]:
    get = response.get  # type: ignore[attr-defined]
    problems = []
    policy = get("Content-Security-Policy", "")
    directives = {part.split()[0]: part for part in policy.split(";") if part.strip()}
    script = directives.get("script-src") or directives.get("default-src", "")
    if not policy:
        problems.append("no Content-Security-Policy")
    elif "'unsafe-inline'" in script or "'unsafe-eval'" in script or "*" in script:
        problems.append(f"scripts not limited to files of the site: {script!r}")
    if "frame-ancestors 'none'" not in policy:
        problems.append("the policy allows framing")
    if get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {get('X-Frame-Options')!r}")
    if get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options {get('X-Content-Type-Options')!r}")
    if get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy {get('Referrer-Policy')!r}")
    return [f"{url}: {problem}" for problem in problems]


def test_the_policy_allows_no_inline_script_and_no_foreign_host() -> None:
    policy = settings.CONTENT_SECURITY_POLICY
    assert SCRIPT_SOURCES in policy + ";"
    assert "unsafe" not in policy
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "http" not in policy  # no other host named anywhere


def test_every_page_sends_the_security_headers_and_no_inline_code(world: World) -> None:
    by_who = clients(world)
    problems: list[str] = []
    html_pages = 0
    found = pages(world)
    for page in found:
        response = by_who[page.who].get(page.url)
        problems += header_problems(response, page.url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            html_pages += 1
            body = response.content.decode()
            styles = page.route.name not in PACKAGE_STYLES
            problems += [f"{page.url}: {item}" for item in inline_code(body, styles=styles)]
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
    # The walk reaches the staff side, the portal, the public pages and the admin.
    assert {page.who for page in found} == {"staff", "customer", "anonymous"}
    assert len(found) >= 250
    assert html_pages >= 100
    print(f"{len(found)} page patterns requested, {html_pages} HTML pages scanned")


def test_api_answers_and_errors_carry_the_headers_too(world: World) -> None:
    client = clients(world)["staff"]
    problems: list[str] = []
    for url in ("/api/v1/tickets/", "/api/v1/schema/", "/healthz", "/no-such-page/"):
        problems += header_problems(client.get(url), url)
    assert not problems, "\n".join(problems)


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_over_https_when_configured(db: None) -> None:
    # The security middleware reads its settings when the client's handler
    # starts, so each client is made under the settings it tests.
    client = Client()
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # Never over plain http: a browser must not pin a host it reached insecurely.
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")
    with override_settings(SECURE_HSTS_SECONDS=0):
        assert "Strict-Transport-Security" not in Client().get("/accounts/login/", secure=True)


def test_the_scanner_finds_what_the_policy_forbids() -> None:
    """The checks above would see each kind of inline code."""
    samples = {
        "<script>alert(1)</script>": "inline script",
        '<script src="/x.js">alert(1)</script>': "with a body",
        '<button onclick="go()">': "event handler",
        '<div hx-on:click="go()">': "event handler",
        '<a href=" JaVa\tScript:go()">': "javascript: URL",
        '<form action="javascript:go()">': "javascript: URL",
        '<p style="color:red">': "inline style",
        "<style>p{}</style>": "inline style sheet",
        "<div hx-vals='js:{a: go()}'>": "evaluated by htmx",
    }
    for html, expected in samples.items():
        found = inline_code(html)
        assert any(expected in item for item in found), (html, found)
    assert inline_code('<script src="/static/x.js" defer></script>') == []
    assert inline_code('<script type="application/json" id="d">{"a": 1}</script>') == []
    assert inline_code('<a href="/tickets/?q=javascript">') == []


def test_no_template_contains_inline_code() -> None:
    """Every template, also the partials htmx swaps in. Mail templates may
    style inline (no browser policy applies to a mail), never script."""
    problems = []
    scanned = templates()
    for path in scanned:
        html = template_as_html(path.read_text())
        for item in inline_code(html, styles=not is_email(path)):
            problems.append(f"{path.relative_to(ROOT)}: {item}")
    assert not problems, "\n".join(problems)
    assert len(scanned) >= 100
