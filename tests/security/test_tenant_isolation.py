"""Tenant isolation, probed automatically: every URL pattern of the project
(pages, the portal, the API under /api/v1/) is found by walking the URL
resolver, filled with the public references of customer 2000's objects, and
requested as customer1 (a user of customer 1000). Each must answer as its area
decides (404 for another company's object and for the staff side, 403 for an
API method customers may not call) and no response may contain a value of
customer 2000's objects. The same objects answer a token without the needed
scope with 403 and a request without credentials with 401 (API) or the login
page (pages). Positive controls (customer1 on customer 1000's objects, staff
on customer 2000's) keep the probe from passing because it filled in junk.

A pattern that is neither in OBJECTS nor in EXEMPT fails the coverage test:
a new page or endpoint has to be classified when it is added."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.scopes import SCOPES
from accounts.services import api_token_create
from tests.base import make_user
from tests.security.world import Company, World, make_world
from tickets.models import Ticket

# --- The URL patterns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or "" for an unnamed pattern
    route: str  # the whole route as written, e.g. "portal/tickets/<str:number>/"
    params: tuple[str, ...]
    callback: Callable[..., Any]

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0]


def _params(pattern: Any) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters:  # path(): <conv:name>
        return tuple(converters)
    return tuple(pattern.regex.groupindex)  # re_path(): (?P<name>...)


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespace: tuple[str, ...]
) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespace, entry.namespace) if entry.namespace else namespace
            yield from (
                Route(r.name, r.route, (*_params(entry.pattern), *r.params), r.callback)
                for r in _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            )
        else:
            name = ":".join((*namespace, entry.name)) if entry.name else ""
            yield Route(name, prefix + str(entry.pattern), _params(entry.pattern), entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ()))


# --- What each pattern is filled with -----------------------------------------------------

# URL name -> {URL parameter: world key (see tests/security/world.py)}. Every
# pattern outside EXEMPT is listed, also those without parameters ({}), so a new
# pattern is classified when it is added.
OBJECTS: dict[str, dict[str, str]] = {
    # Tasks (staff)
    "task-list": {},
    "task-detail": {"public_id": "task"},
    "task-close": {"public_id": "task"},
    "task-reopen": {"public_id": "task"},
    # Tickets (staff)
    "queue": {},
    "ticket-new": {},
    "customer-history": {},
    "ticket-detail": {"number": "ticket"},
    "ticket-triage": {"number": "ticket"},
    "ticket-classify": {"number": "ticket"},
    "ticket-assign": {"number": "ticket"},
    "ticket-reply": {"number": "ticket"},
    "ticket-resolve": {"number": "ticket"},
    "ticket-status": {"number": "ticket"},
    "ticket-extend": {"number": "ticket"},
    "ticket-escalate": {"number": "ticket"},
    "extension-decide": {"number": "ticket"},
    "escalation-decide": {"number": "ticket"},
    "ticket-article-link": {"number": "ticket"},
    "ticket-problem-link": {"number": "ticket"},
    # Attachments: shared by staff and customers, scoped by the ticket selectors.
    "attachment": {"public_id": "attachment"},
    # Knowledge base, problems, call cards (staff)
    "kb": {},
    "article-new": {},
    "article-search": {},
    "article-detail": {"public_id": "article"},
    "problems": {},
    "problem-new": {},
    "problem-detail": {"number": "problem"},
    "call-cards": {},
    "call-card-ticket": {"public_id": "call_card"},
    # Customers (staff)
    "customer-list": {},
    "customer-detail": {"number": "customer"},
    # Backups (staff)
    "backup-checks": {},
    "backup-check": {"pk": "backup_check"},
    "backup-check-complete": {"pk": "backup_check"},
    "backup-line-handle": {"pk": "check_line"},
    "backup-problems": {},
    "backup-problem": {"number": "backup_problem"},
    "backup-problem-analyse": {"number": "backup_problem"},
    "backup-problem-solve": {"number": "backup_problem"},
    "backup-jobs": {},
    "backup-job-new": {},
    "backup-job": {"reference": "backup_job"},
    "backup-job-edit": {"reference": "backup_job"},
    "backup-restore-tests": {},
    # Network: configuration items (staff)
    "network": {},
    "inventory-item-new": {},
    "inventory-item-export": {},
    "inventory-item": {"reference": "item"},
    "inventory-item-edit": {"reference": "item"},
    "inventory-item-status": {"reference": "item"},
    "inventory-item-ip-add": {"reference": "item"},
    "inventory-item-ip-remove": {"reference": "item"},
    "inventory-item-software-set": {"reference": "item"},
    "inventory-item-software-remove": {"reference": "item"},
    "inventory-item-secret-store": {"reference": "item"},
    "inventory-item-secret-reveal": {"reference": "item", "public_id": "secret"},
    "inventory-item-secret-remove": {"reference": "item", "public_id": "secret"},
    # Network: stock (staff; customers never see stock, an order may name one)
    "inventory-stock": {},
    "inventory-products": {},
    "inventory-product-new": {},
    "inventory-product": {"sku": "product"},
    "inventory-product-edit": {"sku": "product"},
    "inventory-product-issue": {"sku": "product"},
    "inventory-product-transfer": {"sku": "product"},
    "inventory-orders": {},
    "inventory-order-new": {},
    "inventory-order": {"number": "order"},
    "inventory-receive": {"number": "order", "line": "order_line"},
    "inventory-counts": {},
    "inventory-count-new": {},
    "inventory-count": {"pk": "stock_count"},
    "inventory-count-record": {"pk": "stock_count"},
    "inventory-count-close": {"pk": "stock_count"},
    # Network: machine updates (staff)
    "inventory-updates": {},
    "inventory-updates-behind": {},
    "inventory-release-new": {},
    "inventory-update-new": {},
    "inventory-update": {"number": "update"},
    "inventory-update-research": {"number": "update"},
    "inventory-update-schedule": {"number": "update"},
    "inventory-update-approve": {"number": "update"},
    "inventory-update-test": {"number": "update"},
    "inventory-update-install": {"number": "update"},
    "inventory-update-verify": {"number": "update"},
    "inventory-update-register": {"number": "update"},
    "inventory-update-fail": {"number": "update"},
    # Network: deliveries (staff)
    "inventory-deliveries": {},
    "inventory-delivery-new": {},
    "inventory-delivery": {"number": "delivery"},
    "inventory-delivery-document": {"number": "delivery"},
    "inventory-delivery-pdf": {"number": "delivery"},
    "inventory-delivery-letter": {"number": "delivery"},
    "inventory-delivery-step": {"number": "delivery"},
    "inventory-delivery-register": {"number": "delivery"},
    "inventory-delivery-assign": {"number": "delivery"},
    "inventory-delivery-issue": {"number": "delivery"},
    "inventory-delivery-retest": {"number": "delivery"},
    "inventory-delivery-confirm": {"number": "delivery"},
    "inventory-delivery-complete": {"number": "delivery"},
    "inventory-delivery-cancel": {"number": "delivery"},
    # Reports and exports (staff)
    "reports": {},
    "report-targets": {},
    "report-kpis-csv": {},
    "report-tickets-csv": {},
    "report-changes-csv": {},
    "report-backup-problems-csv": {},
    "report-table-csv": {"code": "report_table"},
    # Changes and the CAB (staff)
    "change-schedule": {},
    "cab": {},
    "cab-history": {},
    "cab-meeting": {"meeting_id": "cab_meeting"},
    "cab-minutes": {"meeting_id": "cab_meeting"},
    "cab-advise": {"number": "change"},
    "cab-decide": {"number": "change"},
    "change-list": {},
    "change-new": {},
    "change-detail": {"number": "change"},
    "change-start": {"number": "change"},
    "change-outcome": {"number": "change"},
    "change-incident": {"number": "change"},
    # The customer portal
    "portal:home": {},
    "portal:tickets": {},
    "portal:ticket-new": {},
    "portal:ticket-detail": {"number": "ticket"},
    "portal:ticket-reply": {"number": "ticket"},
    "portal:ticket-confirm": {"number": "ticket"},
    "portal:ticket-reopen": {"number": "ticket"},
    "portal:changes": {},
    "portal:change-detail": {"number": "change"},
    "portal:backups": {},
    "portal:machines": {},
    "portal:machine-detail": {"reference": "item"},
    "portal:updates": {},
    "portal:update-detail": {"number": "update"},
    "portal:update-approve": {"number": "update"},
    "portal:deliveries": {},
    "portal:delivery-detail": {"number": "delivery"},
    "portal:delivery-accept": {"number": "delivery"},
    "portal:delivery-reject": {"number": "delivery"},
    "portal:delivery-document": {"number": "delivery"},
    "portal:delivery-pdf": {"number": "delivery"},
    # The API
    "api:customer-list": {},
    "api:customer-detail": {"number": "customer"},
    "api:ticket-list": {},
    "api:ticket-detail": {"number": "ticket"},
    "api:ticket-messages": {"number": "ticket"},
    "api:ticket-transitions": {"number": "ticket"},
    "api:call-cards": {},
    "api:monitoring-alerts": {},
    "api:task-list": {},
    "api:task-detail": {"public_id": "task"},
    "api:task-close": {"public_id": "task"},
    "api:task-reopen": {"public_id": "task"},
    "api:backup-runs": {},
    "api:backup-checks": {},
    "api:machine-list": {},
    "api:machine-detail": {"reference": "item"},
    "api:product-list": {},
    "api:product-detail": {"sku": "product"},
    "api:purchase-order-list": {},
    "api:purchase-order-detail": {"number": "order"},
    "api:change-list": {},
    "api:change-schedule-ics": {},
    "api:change-detail": {"number": "change"},
    "api:change-advice": {"number": "change"},
    "api:change-decision": {"number": "change"},
}

# What customer users may call in the API with their session (the views'
# `customer_methods`); everything else answers them 403. Widening this is a
# decision, so the views must declare exactly this.
CUSTOMER_API: dict[str, set[str]] = {
    "api:customer-list": {"GET"},
    "api:customer-detail": {"GET"},
    "api:ticket-list": {"GET", "POST"},
    "api:ticket-detail": {"GET"},
    "api:ticket-messages": {"GET", "POST"},
    "api:machine-list": {"GET"},
    "api:machine-detail": {"GET"},
    "api:change-list": {"GET", "POST"},
    "api:change-detail": {"GET"},
}

# Pages that take an object from the query string too: {query parameter: world key}.
QUERY: dict[str, dict[str, str]] = {
    "article-search": {"ticket": "ticket"},
    "problem-new": {"ticket": "ticket"},
    "change-new": {"ticket": "ticket"},
    "backup-restore-tests": {"job": "backup_job"},
    "inventory-update-new": {"machine": "item"},
}

# Patterns the probe does not fill with objects: why, and the status customer1
# gets from a plain GET instead (checked too, with the leak check).
EXEMPT: dict[str, tuple[int, str]] = {
    "home": (302, "the start page sends a customer user on to the portal"),
    "login": (302, "public login form; a logged-in user is sent on"),
    "logout": (405, "logging out is a POST"),
    "password_reset": (200, "public form, shows no data"),
    "password_reset_done": (200, "public notice, shows no data"),
    "password_reset_confirm": (200, "guarded by the signed token in the URL, not by a tenant"),
    "password_reset_complete": (200, "public notice, shows no data"),
    "set_language": (302, "switches the language (a POST; a GET just redirects back)"),
    "healthz": (200, "load balancer health check: the database answers, no data"),
    "api:schema": (200, "the OpenAPI schema is public by design (API.md): no data"),
    "api:docs": (200, "the browsable docs are public by design: no data"),
    "admin:login": (200, "the admin's login form: tells a non-staff user to log in as staff"),
    "admin:logout": (302, "the admin sends a non-staff user to its index (and so to its login)"),
}
# The Django admin (every pattern, also the unnamed ones): staff only; a
# customer user is sent to the admin login, never shown an admin page.
EXEMPT_NAMESPACES: dict[str, tuple[int, str]] = {
    "admin": (302, "the Django admin is for staff; customers go to its login"),
}

# Portal pages and the one shared download: customer-facing, scoped to the
# user's own company by the selectors. Everything else outside /api/ is the
# staff side, which answers 404 to a customer user (it does not exist for them).
CUSTOMER_FACING = {"attachment"}

# Query strings with customer 2000's terms for every list page and export:
# a search, filter or autocomplete must not find anything of theirs.


def search_query(foreign: Company, *, api: bool = False) -> str:
    refs = foreign.refs
    terms = {
        "q": "korenschoof",
        "search": "Korenschoof",
        "customer": foreign.customer.number,
        "ticket": refs["ticket"],
        "machine": refs["item"],
        "hostname": refs["item"],
        "job": refs["backup_job"],
    }
    if not api:
        terms["status"] = "all"  # the portal's list of every ticket; the API validates choices
    return "?" + urlencode(terms)


def plausible_form(foreign: Company) -> dict[str, str]:
    """One body that fills the forms of every page well enough: a reply, a
    reason, a remark, a new address, a decision, naming customer 2000's objects."""
    refs = foreign.refs
    return {
        "body": "Please send me the korenschoof logs",
        "public": "on",
        "reason": "Still broken",
        "note": "Fine by me",
        "remarks": "The site does not load",
        "remark": "Done",
        "subject": "Give me the korenschoof data",
        "message": "Please",
        "type": "incident",
        "impact": "high",
        "urgency": "high",
        "status": "closed",
        "to": "closed",
        "resolution": "solved",
        "cause_code": "configuration",
        "handling": "incident",
        "severity": "major",
        "cause": "Locked table",
        "solution": "Unlocked",
        "address": "185.52.224.99",
        "name": "korenschoof-erp",
        "version": "9.9",
        "label": "korenschoof vault key",
        "value": "guess",
        "decision": "approved",
        "approve": "1",
        "minutes": "Agreed",
        "quantity": "1",
        "location": "ams1",
        "customer": foreign.customer.number,
        "ticket": refs["ticket"],
        "article": refs["article"],
        "problem": refs["problem"],
        "hostname": refs["item"],
        "job": refs["backup_job"],
    }


def plausible_json(foreign: Company) -> dict[str, Any]:
    refs = foreign.refs
    return {
        "customer": foreign.customer.number,
        "ticket": refs["ticket"],
        "subject": "Give me the korenschoof data",
        "message": "Please",
        "body": "Please send me the korenschoof logs",
        "public": True,
        "type": "incident",
        "channel": "portal",
        "category": "other",
        "impact": "high",
        "urgency": "high",
        "answers": {
            "multiple_users": False,
            "dependencies": False,
            "unsupported": False,
            "investment": False,
        },
        "to": "closed",
        "resolution": "solved",
        "remark": "Done",
        "notes": "Mine now",
        "name": "Korenschoof",
        "email": "it@korenschoof.example",
        "decision": "approved",
        "technically_feasible": True,
        "within_budget": True,
        "remarks": "Fine",
        "job": refs["backup_job"],
        "status": "success",
        "started_at": "2026-03-10T01:00:00+00:00",
        "hostname": refs["item"],
    }


# --- Building requests --------------------------------------------------------------------


def _bogus(value: str) -> str:
    """A reference of the same shape that names nothing."""
    try:
        uuid.UUID(value)
    except ValueError:
        pass
    else:
        return str(uuid.UUID(int=7))
    if value.isdigit():
        return "999999"
    if re.fullmatch(r"[A-Z]+-\d+", value):
        return re.sub(r"\d", "9", value)
    return "nonexistent"


def url_of(route: Route, company: Company, *, bogus: bool = False) -> str:
    table, query = OBJECTS[route.name], QUERY.get(route.name, {})
    kwargs = {param: company.refs[table[param]] for param in route.params}
    terms = {param: company.refs[key] for param, key in query.items()}
    if bogus:
        kwargs = {param: _bogus(value) for param, value in kwargs.items()}
        terms = {param: _bogus(value) for param, value in terms.items()}
    url = reverse(route.name, kwargs=kwargs)
    return with_query(url, urlencode(terms)) if terms else url


def with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query.lstrip("?")


def _dummy_url(route: Route) -> str:
    """For exempt patterns any value fits: object 1, an admin app's first name."""
    path = re.sub(r"<(?:\w+:)?\w+>", "1", route.route)
    path = re.sub(
        r"\(\?P<\w+>([^)|]*)[^)]*\)", lambda m: m.group(1) if "|" in m.group(0) else "1", path
    )
    return "/" + path.replace("^", "").replace("$", "")


def area(route: Route) -> str:
    if route.namespace.startswith("api"):
        return "api"
    if route.namespace == "portal" or route.name in CUSTOMER_FACING:
        return "customer"
    return "staff"


def exemption(route: Route) -> tuple[int, str] | None:
    if route.name in EXEMPT:
        return EXEMPT[route.name]
    for namespace, rule in EXEMPT_NAMESPACES.items():
        if route.namespace == namespace or route.route.startswith(f"{namespace}/"):
            return rule
    return None


def probed_routes() -> list[Route]:
    return [route for route in all_routes() if exemption(route) is None]


def api_methods(route: Route) -> list[str]:
    view_class = route.callback.view_class  # type: ignore[attr-defined]
    return [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]


def _scopes(route: Route) -> dict[str, str]:
    return getattr(route.callback.view_class, "scopes", {})  # type: ignore[attr-defined]


def _customer_methods(route: Route) -> set[str]:
    return set(getattr(route.callback.view_class, "customer_methods", set()))  # type: ignore[attr-defined]


# --- Checking responses -------------------------------------------------------------------


class Findings:
    """Every failure of a probe, reported together: one run shows them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def assert_none(self) -> None:
        assert not self.items, f"{len(self.items)} finding(s):\n" + "\n".join(self.items)


def _text(response: HttpResponseBase) -> str:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        body = getattr(response, "content", b"")
    headers = "\n".join(f"{key}: {value}" for key, value in response.items())
    return headers + "\n" + body.decode("utf-8", "replace")


def _without_echo(text: str, full_path: str) -> str:
    """Pages echo their own address (the language switch's `next`, the login
    redirect); what the caller sent is not a leak, so drop it first."""
    for echo in sorted(
        {full_path, html.escape(full_path), quote(full_path), quote(full_path, safe="")},
        key=len,
        reverse=True,
    ):
        text = text.replace(echo, "")
    return text


def _strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in _strings(value)]
    return [data] if isinstance(data, str) else []


def leaked(
    response: HttpResponseBase, full_path: str, company: Company, sent: Sequence[str] = ()
) -> list[str]:
    text = _without_echo(_text(response), full_path)
    for value in sorted(sent, key=len, reverse=True):
        text = text.replace(value, "")
    found = []
    for marker in company.markers:
        # The company name (and every text value carries it) in any case;
        # numbers, addresses and ids exactly.
        hit = marker.lower() in text.lower() if marker.islower() else marker in text
        if hit:
            found.append(marker)
    return found


def fingerprint() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sessions aside): a probe that changes
    anything at all shows up as a difference."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        if model is Session:
            continue
        rows[model._meta.label] = sorted(
            model._default_manager.order_by("pk").values_list(), key=repr
        )
    return rows


def _diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Probe:
    client: Client
    findings: Findings
    foreign: Company

    def request(
        self, method: str, url: str, data: Any = None, *, json_body: bool = False
    ) -> HttpResponseBase:
        kwargs: dict[str, Any] = {}
        if data is not None:
            kwargs = (
                {"data": json.dumps(data), "content_type": "application/json"}
                if json_body
                else {"data": data}
            )
        try:
            response = getattr(self.client, method.lower())(url, **kwargs)
        except Exception as error:  # a 500: the test client re-raises it
            self.findings.add(f"{method} {url}: raised {error.__class__.__name__}: {error}")
            return HttpResponseBase(status=500)
        # A validation error may quote what the caller sent ("Object with
        # number=T-000001 does not exist."): an echo, not a leak.
        sent = _strings(data) if response.status_code == 400 else []
        found = leaked(response, url, self.foreign, sent=sent)
        if found:
            self.findings.add(f"{method} {url}: {response.status_code}, leaks {found}")
        return response

    def expect(
        self, method: str, url: str, expected: set[int], data: Any = None, **kwargs: Any
    ) -> HttpResponseBase:
        response = self.request(method, url, data, **kwargs)
        if response.status_code not in expected:
            self.findings.add(
                f"{method} {url}: {response.status_code}, expected {sorted(expected)}"
            )
        return response


def _refuses_get(response: HttpResponseBase) -> bool:
    """A POST-only view answers GET with 405 before it reads anything."""
    return response.status_code == 405 and "GET" not in response.get("Allow", "")


# --- The world ----------------------------------------------------------------------------


@pytest.fixture
def world(db: None) -> World:
    return make_world()


# --- Coverage -----------------------------------------------------------------------------


def test_every_url_pattern_is_classified() -> None:
    routes = all_routes()
    unclassified = [
        f"{route.name or '(unnamed)'} {route.route}"
        for route in routes
        if exemption(route) is None and route.name not in OBJECTS
    ]
    assert not unclassified, "add to OBJECTS or EXEMPT:\n" + "\n".join(unclassified)
    names = {route.name for route in routes}
    stale = sorted((OBJECTS.keys() | EXEMPT.keys()) - names)
    assert not stale, f"no longer a URL pattern: {stale}"
    for route in probed_routes():
        missing = set(route.params) - OBJECTS[route.name].keys()
        assert not missing, f"{route.name}: no object for {sorted(missing)}"
    declared = {
        route.name: _customer_methods(route) & set(api_methods(route))
        for route in probed_routes()
        if area(route) == "api"
    }
    assert {name: methods for name, methods in declared.items() if methods} == CUSTOMER_API
    # Sanity: the walk reaches the portal, the API and the admin.
    assert {"portal:ticket-detail", "api:ticket-detail", "admin:index"} <= names


# --- customer1 against customer 2000 ------------------------------------------------------


def _probe_page(probe: Probe, route: Route, foreign: Company, query: str) -> None:
    if area(route) == "customer" and not route.params:
        # The customer's own lists: they answer, showing nothing of 2000.
        probe.expect("GET", url_of(route, foreign), {200})
        probe.expect("GET", with_query(url_of(route, foreign), query), {200})
        return
    url, bogus = url_of(route, foreign), url_of(route, foreign, bogus=True)
    response = probe.request("GET", url if route.params else with_query(url, query))
    if response.status_code != 404 and not _refuses_get(response):
        probe.findings.add(f"GET {url}: {response.status_code}, expected 404 (or 405 POST-only)")
    if route.params:
        twin = probe.request("GET", bogus)
        if twin.status_code != response.status_code:
            probe.findings.add(
                f"GET {url}: {response.status_code} but {twin.status_code} for {bogus}"
            )
    probe.expect("POST", url, {404}, {})
    probe.expect("POST", url, {404}, plausible_form(foreign))


def _probe_api(probe: Probe, route: Route, foreign: Company, query: str) -> None:
    allowed = _customer_methods(route)
    url, bogus = url_of(route, foreign), url_of(route, foreign, bogus=True)
    for method in api_methods(route):
        if method not in allowed:
            expected = {403}  # the API says "not allowed" before looking anything up
        elif route.params:
            expected = {404}
        else:
            expected = {200} if method == "GET" else {400}
        if method == "GET":
            probe.expect("GET", url, expected)
            probe.expect("GET", bogus if route.params else with_query(url, query), expected)
            continue
        for body in ({}, plausible_json(foreign)):
            probe.expect(method, url, expected, body, json_body=True)
            if route.params:
                probe.expect(method, bogus, expected, body, json_body=True)


def test_customer1_reaches_nothing_of_customer_2000(world: World) -> None:
    foreign = world.foreign
    findings = Findings()
    probe = Probe(logged_in(world.own.user), findings, foreign)
    query, api_query = search_query(foreign), search_query(foreign, api=True)
    before = fingerprint()
    routes = probed_routes()
    for route in routes:
        if area(route) == "api":
            _probe_api(probe, route, foreign, api_query)
        else:
            _probe_page(probe, route, foreign, query)
    changed = _diff(before, fingerprint())
    if changed:
        findings.add(f"the probe changed data: {changed}")
    findings.assert_none()
    assert len(routes) == len(OBJECTS)


def test_exempt_patterns_answer_customer1_as_documented(world: World) -> None:
    findings = Findings()
    probe = Probe(logged_in(world.own.user), findings, world.foreign)
    for route in all_routes():
        rule = exemption(route)
        if rule is None:
            continue
        response = probe.expect("GET", _dummy_url(route), {rule[0]})
        if route.name not in EXEMPT and route.namespace == "admin":
            location = response.get("Location", "")
            if not location.startswith("/admin/login/"):
                findings.add(f"GET {_dummy_url(route)}: to {location!r}, not the admin login")
    findings.assert_none()


def test_customer1_cannot_file_work_for_customer_2000(world: World) -> None:
    """The create endpoints customers may call take the customer from the
    user, or refuse customer 2000 and its tickets in the same words as ones
    that do not exist, so the answer does not tell which exist."""
    foreign = world.foreign
    client = logged_in(world.own.user)
    foreign_tickets = Ticket.objects.filter(customer=foreign.customer).count()
    page = client.post("/portal/tickets/new/", plausible_form(foreign))
    assert page.status_code == 302
    assert Ticket.objects.filter(customer=foreign.customer).count() == foreign_tickets
    api = APIClient()
    api.force_login(world.own.user)
    for path, field, values in (
        ("/api/v1/tickets/", "customer", (foreign.customer.number, "9999")),
        ("/api/v1/changes/", "customer", (foreign.customer.number, "9999")),
        ("/api/v1/changes/", "ticket", (foreign.refs["ticket"], "T-999999")),
    ):
        answers = []
        for value in values:
            body = {**plausible_json(foreign), "customer": None, field: value}
            response = api.post(path, body, format="json")
            assert response.status_code == 400, (path, field, value, response.content)
            answers.append(response.content.decode().replace(value, "<value>"))
        assert answers[0] == answers[1], (path, field, answers)
    assert Ticket.objects.filter(customer=foreign.customer).count() == foreign_tickets


# --- Positive controls --------------------------------------------------------------------

# What each customer-facing page must show of the company's objects: a world key,
# looked up in Company.shown first, then in Company.refs. A page with an object
# in its URL and not listed here must show that object's reference.
SHOWS: dict[str, str] = {
    "portal:home": "ticket",
    "portal:tickets": "ticket",
    "portal:changes": "change",
    "portal:backups": "backup_job",
    "portal:machines": "item",
    "portal:updates": "update",
    "portal:deliveries": "delivery",
    "portal:ticket-new": "",  # a form
    "portal:delivery-pdf": "",  # a PDF: compressed
    "attachment": "",  # the file itself, checked by its content
    "api:customer-list": "customer",
    "api:ticket-list": "ticket",
    "api:ticket-messages": "messages",
    "api:machine-list": "item",
    "api:change-list": "change",
}


@pytest.mark.parametrize("side", ["own", "foreign"])
def test_a_customer_reaches_its_own_objects(world: World, side: str) -> None:
    """The same patterns with a company's own objects answer its user (customer1
    for 1000, customer2 for 2000): the 404s above are about the tenant, not about
    a badly filled table."""
    company: Company = getattr(world, side)
    client = logged_in(company.user)
    findings = Findings()
    reached = 0
    for route in probed_routes():
        if area(route) == "staff":
            continue
        if area(route) == "api" and "GET" not in _customer_methods(route):
            continue
        url = url_of(route, company)
        response = client.get(url)
        if _refuses_get(response):
            continue
        reached += 1
        if response.status_code != 200:
            findings.add(f"GET {url}: {response.status_code}, expected 200")
            continue
        key = SHOWS.get(route.name, next(iter(OBJECTS[route.name].values()), ""))
        value = company.shown.get(key) or company.refs.get(key, "")
        if value and html.escape(value) not in _text(response) and value not in _text(response):
            findings.add(f"GET {url}: does not show {value!r}")
    download = client.get(f"/attachments/{company.refs['attachment']}/")
    if f"relay {company.slug} restarted" not in _text(download):
        findings.add("the public reply's attachment is not served")
    internal = client.get(f"/attachments/{company.refs['internal_attachment']}/")
    if internal.status_code != 404:
        findings.add(f"an internal note's attachment answers {internal.status_code}")
    findings.assert_none()
    assert reached >= 20


def test_staff_reach_every_object_the_probe_uses(world: World) -> None:
    """Staff (a superuser) get each filled staff page with customer 2000's
    objects: every reference in the table names a real object. POST-only views
    get an empty POST, which must be refused as invalid (or done), never answered
    with a 404 or a 500. (The portal is for customer users only: staff get 404
    there; customer2 checks its references above.)"""
    admin = make_user("probe-admin")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    client = logged_in(admin)
    findings = Findings()
    for route in probed_routes():
        if area(route) != "staff" and route.name not in CUSTOMER_FACING:
            continue
        url = url_of(route, world.foreign)
        try:
            response = client.get(url)
            if _refuses_get(response):
                # An empty POST may be done at once (removing a secret); one
                # that needs a field (the article to link) gets the plausible body.
                response = client.post(url, {})
                if response.status_code == 404:
                    response = client.post(url, plausible_form(world.foreign))
        except Exception as error:  # a 500: the test client re-raises it
            findings.add(f"{url}: raised {error.__class__.__name__}: {error}")
            continue
        if response.status_code == 404 or response.status_code >= 500:
            findings.add(
                f"{response.request['REQUEST_METHOD']} {url}: {response.status_code} for staff"
            )
    findings.assert_none()


# --- Without credentials, and tokens without the scope ------------------------------------


def _token(scopes: list[str]) -> APIClient:
    issued = api_token_create(name=f"probe-{uuid.uuid4().hex[:8]}", scopes=",".join(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    return client


def test_the_api_needs_credentials_and_the_scope(world: World) -> None:
    """No credentials: 401. A token with every scope but the one the method
    needs: 403 (for advice and decisions, a person's judgement, even `all`).
    A token with just that scope reads (tokens are staff-level: no tenant)."""
    foreign = world.foreign
    findings = Findings()
    anonymous = Probe(Client(), findings, foreign)
    probed = 0
    for route in probed_routes():
        if area(route) != "api":
            continue
        url = url_of(route, foreign)
        scopes = _scopes(route)
        for method in api_methods(route):
            probed += 1
            body = None if method == "GET" else plausible_json(foreign)
            response = anonymous.expect(method, url, {401}, body, json_body=True)
            if response.status_code == 401 and response.get("WWW-Authenticate") != "Token":
                findings.add(f"{method} {url}: 401 without WWW-Authenticate: Token")
            needed = scopes.get(method)
            others = sorted(set(SCOPES) - {needed}) if needed else ["all"]
            lacking = Probe(_token(others), findings, foreign)
            lacking.expect(method, url, {403}, body, json_body=True)
            if method == "GET" and needed:
                response = _token([needed]).get(url)
                if response.status_code != 200:
                    findings.add(f"GET {url} with {needed}: {response.status_code}")
    findings.assert_none()
    assert probed >= 30


def test_pages_send_anonymous_visitors_to_the_login(world: World) -> None:
    findings = Findings()
    probe = Probe(Client(), findings, world.foreign)
    for route in probed_routes():
        if area(route) == "api":
            continue
        url = url_of(route, world.foreign)
        response = probe.request("GET", url)
        if _refuses_get(response):
            response = probe.request("POST", url, {})
        location = response.get("Location", "")
        if response.status_code != 302 or not location.startswith("/accounts/login/"):
            findings.add(f"{url}: {response.status_code} to {location!r}, not the login")
    findings.assert_none()
