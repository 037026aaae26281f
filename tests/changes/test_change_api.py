"""The changes API as API.md fixes it: submit, list, read, CAB advice, the
change manager's decision and the forward schedule as iCalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from changes.models import Change, ChangeStatus, FreezeWindow
from changes.services import change_decide, change_start, change_submit
from tests.base import Personas

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Amsterdam
NO = {"multiple_users": False, "dependencies": False, "unsupported": False, "investment": False}
BODY: dict[str, Any] = {
    "subject": "Upgrade PHP on web01",
    "message": "PHP 8.1 is end of life",
    "customer": "1000",
    "impact": "medium",
    "urgency": "low",
    "answers": NO,
    "justification": "",
    "emergency": False,
    "planned_start": "2026-12-01T10:00:00+01:00",
    "planned_end": "2026-12-01T12:00:00+01:00",
    "implementation_plan": "1. drain node A 2. upgrade 3. swap",
    "rollback_plan": "swap back",
    "affected_machines": ["web01"],
}
CONTRACT_FIELDS = {
    "number",
    "classification",
    "priority",
    "status",
    "subject",
    "message",
    "customer",
    "ticket",
    "impact",
    "urgency",
    "answers",
    "justification",
    "emergency",
    "planned_start",
    "planned_end",
    "implementation_plan",
    "rollback_plan",
    "decision",
    "decided_at",
}


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def submit(personas: Personas, major: bool = True, **kwargs: Any) -> Change:
    fields: dict[str, Any] = {
        "subject": "Move the shop to PHP 8.3",
        "message": "Needs the new runtime",
        "impact": "high",
        "urgency": "medium",
        "answers": {**NO, "dependencies": major},
        "justifications": {"dependencies": "The shop depends on it"} if major else {},
        "actor": personas.jr,
        "now": NOW,
        "customer": personas.customer,
        "implementation_plan": "upgrade",
        "rollback_plan": "downgrade",
        **kwargs,
    }
    return change_submit(**fields)


# --- submitting -----------------------------------------------------------


def test_a_minor_change_is_created_as_the_contract_says(personas: Personas) -> None:
    response = as_user(personas.jr).post("/api/v1/changes/", BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body.keys() >= CONTRACT_FIELDS
    change = Change.objects.get()
    assert body["number"] == change.number == f"C-{change.pk:06d}"
    assert (body["classification"], body["status"], body["priority"]) == ("minor", "submitted", 3)
    assert body["customer"] == "1000" and body["affected_machines"] == ["web01"]
    assert body["answers"] == NO and body["justification"] == ""
    assert body["planned_start"] == "2026-12-01T10:00:00+01:00"
    assert (body["decision"], body["decided_at"]) == ("", None)


def test_a_major_change_is_classified_from_the_answers(personas: Personas, token_client) -> None:
    body = {
        **BODY,
        "impact": "high",
        "urgency": "high",
        "answers": {**NO, "dependencies": True, "investment": True},
        "justification": "The shop depends on it",
        "justifications": {"investment": "Two new licences"},
    }
    response = token_client("changes:write").post("/api/v1/changes/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["classification"], created["status"], created["priority"]) == (
        "major",
        "awaiting_cab",
        1,
    )
    assert Change.objects.get().justifications == {
        "dependencies": "The shop depends on it",
        "investment": "Two new licences",
    }
    assert created["justification"] == "The shop depends on it\nTwo new licences"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"answers": {**NO, "unsupported": True}}, "justification"),
        ({"impact": "huge"}, "impact"),
        ({"planned_end": "2026-12-01T09:00:00+01:00"}, "planned_end"),
        ({"planned_end": None}, "planned_end"),
        ({"customer": "9999"}, "customer"),
        ({"ticket": "T-999999"}, "ticket"),
        ({"answers": {"multiple_users": False}}, "answers"),
        ({"justifications": {"colour": "blue"}}, "justifications"),
        ({"subject": ""}, "subject"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    personas: Personas, change: dict[str, Any], field: str
) -> None:
    response = as_user(personas.jr).post("/api/v1/changes/", {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Change.objects.exists()


def test_a_customer_user_requests_changes_for_the_own_company_only(personas: Personas) -> None:
    client = as_user(personas.customer_user)
    own = client.post("/api/v1/changes/", {**BODY, "customer": None}, format="json")
    assert own.status_code == 201, own.content
    assert own.json()["customer"] == "1000"
    foreign = client.post("/api/v1/changes/", {**BODY, "customer": "2000"}, format="json")
    assert foreign.status_code == 400 and "customer" in foreign.json()
    assert Change.objects.count() == 1


def test_a_customer_user_sees_only_the_own_company_changes(personas: Personas) -> None:
    own = submit(personas)
    foreign = submit(personas, customer=personas.other_customer)
    client = as_user(personas.customer_user)
    listed = client.get("/api/v1/changes/").json()
    assert [c["number"] for c in listed["results"]] == [own.number]
    assert client.get(f"/api/v1/changes/{own.number}/").status_code == 200
    assert client.get(f"/api/v1/changes/{foreign.number}/").status_code == 404
    assert client.get("/api/v1/changes/C-999999/").status_code == 404


def test_idempotent_change_submission(personas: Personas, token_client) -> None:
    client = token_client("changes:write")
    first = client.post("/api/v1/changes/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="rfc-1")
    second = client.post("/api/v1/changes/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="rfc-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"]
    assert second["Idempotent-Replayed"] == "true"
    assert Change.objects.count() == 1


def test_tokens_need_the_changes_scopes(personas: Personas, token_client) -> None:
    reader = token_client("changes:read")
    assert reader.get("/api/v1/changes/").status_code == 200
    assert reader.post("/api/v1/changes/", BODY, format="json").status_code == 403
    assert token_client("tickets:read", name="other").get("/api/v1/changes/").status_code == 403
    assert APIClient().get("/api/v1/changes/").status_code == 401


# --- advice and decision --------------------------------------------------


def test_a_cab_member_advises_and_may_revise(personas: Personas) -> None:
    change = submit(personas)
    url = f"/api/v1/changes/{change.number}/advice/"
    advice = {"technically_feasible": True, "within_budget": False, "remarks": "Licences?"}
    first = as_user(personas.sr).post(url, advice, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["member"] == "sr" and first.json()["within_budget"] is False
    again = as_user(personas.sr).post(url, {**advice, "within_budget": True}, format="json")
    assert again.status_code == 200 and again.json()["within_budget"] is True
    assert change.advice.count() == 1


def test_only_people_in_the_cab_advise(personas: Personas, token_client) -> None:
    change = submit(personas)
    url = f"/api/v1/changes/{change.number}/advice/"
    advice = {"technically_feasible": True, "within_budget": True}
    assert as_user(personas.jr).post(url, advice, format="json").status_code == 403
    assert as_user(personas.customer_user).post(url, advice, format="json").status_code == 403
    assert token_client("all").post(url, advice, format="json").status_code == 403
    assert not change.advice.exists()


def test_the_change_manager_approves(personas: Personas) -> None:
    change = submit(personas)
    response = as_user(personas.cm).post(
        f"/api/v1/changes/{change.number}/decision/", {"decision": "approved"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decision"]) == ("approved", "approved")
    assert body["decided_at"] is not None


def test_nobody_else_decides(personas: Personas, token_client) -> None:
    change = submit(personas)
    url = f"/api/v1/changes/{change.number}/decision/"
    decision = {"decision": "approved"}
    for person in (personas.jr, personas.sr, personas.head, personas.customer_user):
        assert as_user(person).post(url, decision, format="json").status_code == 403
    assert token_client("all").post(url, decision, format="json").status_code == 403
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING_CAB


def test_a_rejection_needs_argumentation_and_alternatives(personas: Personas) -> None:
    change = submit(personas)
    url = f"/api/v1/changes/{change.number}/decision/"
    response = as_user(personas.cm).post(url, {"decision": "rejected"}, format="json")
    assert response.status_code == 400
    assert {"argumentation", "alternatives"} <= response.json().keys()
    rejected = as_user(personas.cm).post(
        url,
        {"decision": "rejected", "argumentation": "Too risky", "alternatives": "Wait for 8.4"},
        format="json",
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert as_user(personas.cm).post(url, {"decision": "maybe"}, format="json").status_code == 400


def test_a_decision_on_an_unknown_change_is_404(personas: Personas) -> None:
    response = as_user(personas.cm).post(
        "/api/v1/changes/C-999999/decision/", {"decision": "approved"}, format="json"
    )
    assert response.status_code == 404


# --- lists ----------------------------------------------------------------


def test_list_filters(personas: Personas) -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    major = submit(personas, planned_start=start, planned_end=start + timedelta(hours=2))
    minor = submit(personas, major=False, customer=personas.other_customer)
    emergency = submit(personas, emergency=True)
    client = as_user(personas.jr)

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/changes/?{query}")
        assert response.status_code == 200, response.content
        return [c["number"] for c in response.json()["results"]]

    assert numbers("classification=minor") == [minor.number]
    assert numbers("status=awaiting_cab") == [emergency.number, major.number]
    assert numbers("status=submitted&status=awaiting_cab") == [
        emergency.number,
        minor.number,
        major.number,
    ]
    assert numbers("customer=2000") == [minor.number]
    assert numbers("emergency=true") == [emergency.number]
    assert numbers("planned_after=2026-12-01T00:00:00Z&planned_before=2026-12-02T00:00:00Z") == [
        major.number
    ]
    assert numbers("planned_after=2026-12-02T00:00:00Z") == []
    assert numbers("ordering=priority&classification=minor") == [minor.number]
    cursor = client.get("/api/v1/changes/?cursor=&page_size=2").json()
    assert len(cursor["results"]) == 2 and cursor["next"]


def test_the_list_costs_the_same_number_of_queries_for_1_or_15_changes(
    personas: Personas,
) -> None:
    client = as_user(personas.jr)
    submit(personas)
    client.get("/api/v1/changes/")  # the user's permissions are cached from here on
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/changes/")
    for _ in range(14):
        submit(personas)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/changes/")
    assert len(response.json()["results"]) == 15
    assert len(many) == len(one)


# --- the forward schedule as iCalendar -----------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_schedule_feed_lists_approved_and_running_changes_and_freezes(
    personas: Personas, token_client
) -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    window: dict[str, Any] = {"planned_start": start, "planned_end": start + timedelta(hours=2)}
    approved = submit(personas, **window)
    change_decide(change=approved, decision="approved", actor=personas.cm, now=NOW)
    running = submit(personas, major=False, **window)
    change_start(change=running, actor=personas.jr, now=NOW)
    waiting = submit(personas, **window)
    unplanned = submit(personas)
    change_decide(change=unplanned, decision="approved", actor=personas.cm, now=NOW)
    FreezeWindow.objects.create(
        reason="Year end",
        starts_at=datetime(2026, 12, 20, tzinfo=UTC),
        ends_at=datetime(2027, 1, 2, tzinfo=UTC),
    )

    calendar = token_client("changes:read")
    response = calendar.get("/api/v1/changes/schedule.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 3
    assert f"UID:{approved.number}@servicedesk" in text
    assert f"UID:{running.number}@servicedesk" in text
    assert waiting.number not in text and unplanned.number not in text
    assert "SUMMARY:Freeze: Year end" in text and "DTSTART:20261201T090000Z" in text

    asked = calendar.get("/api/v1/changes/schedule.ics", HTTP_ACCEPT="text/calendar")
    assert asked.status_code == 200 and asked.content == response.content
    session = as_user(personas.jr).get("/api/v1/changes/schedule.ics")
    assert session.status_code == 200


def test_the_schedule_feed_answers_errors_in_json(personas: Personas, token_client) -> None:
    denied = token_client("tickets:read").get(
        "/api/v1/changes/schedule.ics", HTTP_ACCEPT="text/calendar"
    )
    assert denied.status_code == 403
    assert denied["Content-Type"] == "application/json" and "detail" in denied.json()
    assert as_user(personas.customer_user).get("/api/v1/changes/schedule.ics").status_code == 403


def test_the_schema_documents_the_changes_api(personas: Personas) -> None:
    schema = as_user(personas.jr).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/changes/",
        "/api/v1/changes/{number}/",
        "/api/v1/changes/{number}/advice/",
        "/api/v1/changes/{number}/decision/",
        "/api/v1/changes/schedule.ics",
    ):
        assert path in paths
