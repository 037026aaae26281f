"""Schema fuzzing: schemathesis reads /api/v1/schema/ from the WSGI app in
process and throws generated requests, valid ones and deliberately invalid
ones, at every operation, as an integration client with scope `all`.

Every answer must be no server error, carry a documented status code and match
the schema for that code. Path parameters are sometimes swapped for the
reference of a real object from the demo data, so detail, update and action
endpoints are fuzzed on objects that exist and not only with 404s.

RELIABILITY_EXAMPLES (conftest.py) sets the examples per operation: 25 by
default (the file stays well under 90 s in `make test`), 300 in
`make reliability` (several thousand cases)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Customer, User
from accounts.services import api_token_create
from backups.models import BackupJob
from changes.models import Change
from inventory.models import ConfigurationItem, Location, Product, PurchaseOrder, Supplier
from servicedesk.wsgi import application
from tests.reliability.conftest import RELIABILITY_EXAMPLES, FuzzStats
from tickets.models import CauseCode, Department, SlaContract, Task, Ticket

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _values(model: Any, field: str, **filters: Any) -> list[str]:
    rows = model.objects.filter(**filters).exclude(**{field: None}).values_list(field, flat=True)
    return sorted({str(value) for value in rows})


def _path_references() -> dict[str, list[str]]:
    """Path prefix → references of objects that exist."""
    return {
        "/api/v1/customers/": _values(Customer, "number"),
        "/api/v1/tickets/": _values(Ticket, "number"),
        "/api/v1/changes/": _values(Change, "number"),
        "/api/v1/purchase-orders/": _values(PurchaseOrder, "number"),
        "/api/v1/products/": _values(Product, "sku"),
        "/api/v1/tasks/": _values(Task, "public_id"),
        "/api/v1/machines/": _values(ConfigurationItem, "hostname")
        + _values(ConfigurationItem, "serial_number"),
    }


def _body_references() -> dict[str, list[str]]:
    """Body field → references of objects that exist (the field names mean
    the same object in every request body of the API)."""
    staff = _values(User, "username", is_staff=True, is_active=True)
    machines = _values(ConfigurationItem, "hostname")
    locations = _values(Location, "code")
    return {
        "customer": _values(Customer, "number"),
        "ticket": _values(Ticket, "number"),
        "job": _values(BackupJob, "reference"),
        "assignee": staff,
        "ordered_by": staff,
        "parent": _values(Task, "public_id"),
        "cause_code": _values(CauseCode, "code"),
        "department": _values(Department, "code"),
        "location": locations,
        "destination": locations,
        "supplier": _values(Supplier, "name"),
        "product": _values(Product, "sku"),
        "sla": _values(SlaContract, "code"),
        "host": machines,
        "affected_machines": machines,
    }


# Values a client would plausibly send, for the body fields that hold them:
# times (the API refuses those outside 2000-2100, and calls and runs from the
# future), days and phone numbers.
def _moments(start: int, end: int) -> st.SearchStrategy[str]:
    return st.datetimes(
        min_value=datetime(start, 1, 1), max_value=datetime(end, 1, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat)


PLAUSIBLE: dict[str, st.SearchStrategy[str]] = {
    **dict.fromkeys(("started_at", "finished_at", "received_at"), _moments(2020, 2026)),
    **dict.fromkeys(("planned_start", "planned_end"), _moments(2026, 2036)),
    **dict.fromkeys(
        ("expected_on", "due_date"),
        st.dates(min_value=date(2026, 1, 1), max_value=date(2036, 1, 1)).map(date.isoformat),
    ),
    "phone": st.from_regex(r"\A\+?[0-9]{6,14}\Z"),
}


@dataclass
class DemoData:
    paths: dict[str, list[str]]
    bodies: dict[str, list[str]]

    def body_values(self) -> dict[str, st.SearchStrategy[str]]:
        return {
            **PLAUSIBLE,
            **{key: st.sampled_from(refs) for key, refs in self.bodies.items()},
        }


@pytest.fixture
def demo_data(db: None) -> DemoData:
    # The demo data covers every kind of object the API serves; a cheap
    # hasher because nobody logs in with these passwords here.
    with override_settings(
        DEMO_PASSWORD="reliability-demo",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        call_command("loaddemo", stdout=StringIO())
    data = DemoData(paths=_path_references(), bodies=_body_references())
    empty = [name for name, refs in {**data.paths, **data.bodies}.items() if not refs]
    assert not empty, f"the demo data has none of {empty}"
    return data


@pytest.fixture
def token(db: None) -> str:
    return api_token_create(name="reliability-fuzzer", scopes="all").key


def _mostly(real: st.SearchStrategy[Any], generated: Any) -> st.SearchStrategy[Any]:
    # Three in four: a purchase order needs five fields to be real at once.
    return st.integers(0, 3).flatmap(lambda n: real if n else st.just(generated))


def _or_real(
    value: Any, real: dict[str, st.SearchStrategy[str]], depth: int = 0
) -> st.SearchStrategy[Any]:
    """`value` as generated, with each field that names an object (or holds a
    time) either kept or replaced by a real one, at any depth up to 3."""
    if depth > 3:
        return st.just(value)
    if isinstance(value, dict):
        keys = list(value)
        parts = []
        for key in keys:
            known, item = real.get(key), value[key]
            if known is not None and isinstance(item, list):
                parts.append(_mostly(st.lists(known, max_size=3), item))
            elif known is not None and not isinstance(item, dict):
                parts.append(_mostly(known, item))
            else:
                parts.append(_or_real(item, real, depth + 1))
        return st.tuples(*parts).map(lambda values: dict(zip(keys, values, strict=True)))
    if isinstance(value, list):
        return st.tuples(*(_or_real(item, real, depth + 1) for item in value)).map(list)
    return st.just(value)


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    # The real WSGI handler closes the database connection after each request
    # when it is inside a transaction (the test's); on PostgreSQL that ends
    # the test. Django's test client unhooks the same receivers.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_schema(demo_data: DemoData, in_test_transaction: None) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    body_values = demo_data.body_values()

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        # Half of the time the generated value, half of the time an object
        # that exists (for every path parameter of the operation alike).
        path = context.operation.path if context.operation else ""
        known = next(
            (refs for prefix, refs in demo_data.paths.items() if path.startswith(prefix)), []
        )
        if not path_parameters or not known:
            return st.just(path_parameters)
        real = st.sampled_from(known).map(lambda ref: dict.fromkeys(path_parameters, ref))
        return st.one_of(st.just(path_parameters), real)

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        # Without real references and plausible times nearly every create
        # fails validation, and the services behind it would never be fuzzed.
        return _or_real(body, body_values)

    return schema


@pytest.fixture
def timed(fuzz_stats: FuzzStats) -> Iterator[None]:
    started = time.monotonic()
    yield
    fuzz_stats.seconds += time.monotonic() - started


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=RELIABILITY_EXAMPLES,
    deadline=None,
    # One database transaction per run (the demo data is loaded once); the
    # generated bodies are large by design.
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_api_answers_every_generated_request_as_documented(
    case: Any, token: str, fuzz_stats: FuzzStats, timed: None
) -> None:
    # A savepoint per case: on PostgreSQL a failed query aborts the whole test
    # transaction, and one server error would fail every case after it.
    with transaction.atomic():
        response = case.call_and_validate(
            headers={"Authorization": f"Token {token}"}, checks=CHECKS
        )
    fuzz_stats.cases += 1
    fuzz_stats.by_status[response.status_code] += 1
    fuzz_stats.by_operation[case.operation.label] += 1
    fuzz_stats.by_operation_status[f"{case.operation.label} {response.status_code}"] += 1
