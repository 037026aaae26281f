"""CSRF protection on every form and every state-changing request made with a
session: each template's POST form carries the token, and a POST (PUT, PATCH,
DELETE in the API) without one is refused with 403 before any view runs, on
every URL pattern, for staff, customers and anonymous visitors alike."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.security.pages import ROOT, clients, pages, templates
from tests.security.test_tenant_isolation import api_methods, fingerprint
from tests.security.world import World, make_world

FORM = re.compile(r"<form\b[^>]*>", re.I)
POST = re.compile(r"""\bmethod\s*=\s*["']?post\b""", re.I)
TOKEN = re.compile(r"{%\s*csrf_token\s*%}")


@pytest.fixture
def world(db: None) -> World:
    return make_world()


def forms_without_token(source: str) -> tuple[int, list[str]]:
    """(POST forms in the template, those without {% csrf_token %} inside)."""
    count, missing = 0, []
    for start in FORM.finditer(source):
        if not POST.search(start.group(0)):
            continue
        count += 1
        end = source.find("</form>", start.end())
        body = source[start.end() : end if end >= 0 else len(source)]
        if not TOKEN.search(body):
            missing.append(start.group(0))
    return count, missing


def test_every_post_form_in_the_templates_carries_the_token() -> None:
    problems, forms, files = [], 0, 0
    for path in templates():
        count, missing = forms_without_token(path.read_text())
        forms += count
        files += bool(count)
        problems += [f"{path.relative_to(ROOT)}: {tag}" for tag in missing]
    assert not problems, "\n".join(problems)
    assert forms >= 80
    print(f"{forms} POST forms in {files} templates, each with the token")


def test_the_form_check_sees_a_missing_token() -> None:
    assert forms_without_token('<form method="post"><button></button></form>') == (
        1,
        ['<form method="post">'],
    )
    assert forms_without_token("<form method='POST'>{% csrf_token %}</form>") == (1, [])
    assert forms_without_token('<form method="get"></form>') == (0, [])


def _is_csrf_refusal(response: object) -> bool:
    body = response.content.decode()  # type: ignore[attr-defined]
    return response.status_code == 403 and (  # type: ignore[attr-defined]
        "CSRF verification failed" in body or "CSRF Failed" in body
    )


def test_a_request_without_the_token_is_refused_everywhere(world: World) -> None:
    by_who = clients(world, enforce_csrf_checks=True)
    before = fingerprint()
    problems, probed = [], 0
    for page in pages(world, api=True):
        is_api = page.url.startswith("/api/")
        # The API's session users are staff (customers get 403 on most methods
        # anyway, which would prove nothing); a token needs no CSRF protection.
        client = by_who["staff"] if is_api else by_who[page.who]
        methods = [m for m in api_methods(page.route) if m != "GET"] if is_api else ["POST"]
        for method in methods:
            probed += 1
            if is_api:
                send = getattr(client, method.lower())
                response = send(page.url, "{}", content_type="application/json")
            else:
                response = client.post(page.url, {"body": "x"})
            if not _is_csrf_refusal(response):
                problems.append(f"{method} {page.url} as {page.who}: {response.status_code}")
    assert not problems, f"{len(problems)} accepted without a token:\n" + "\n".join(problems)
    changed = [label for label, rows in fingerprint().items() if rows != before[label]]
    assert changed == [], f"written without a token: {changed}"
    assert probed >= 250
    print(f"{probed} state-changing requests without a token, each refused")


def test_with_the_token_the_same_post_goes_through(world: World) -> None:
    """The refusals above are about the token: the login form with it works."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/", {"username": "nobody", "password": "x", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200  # the form's own "wrong password" answer
    assert "correct username and password" in response.content.decode()
    assert _is_csrf_refusal(
        client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    )
