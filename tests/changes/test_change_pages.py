from __future__ import annotations

from django.test import Client

from changes.models import Change, ChangeStatus
from tests.base import Personas
from tests.changes.test_change_services import MAJOR, NO, WED_10, submit
from tickets.services import ticket_create


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "subject": "Move DNS to the new cluster",
    "message": "Old cluster is end of life",
    "customer": "1000",
    "impact": "high",
    "urgency": "medium",
    "affected_machines": "ns1, ns2",
    "implementation_plan": "",
    "rollback_plan": "",
}


def test_a_change_submitted_from_the_page_is_classified(personas: Personas) -> None:
    client = logged_in(personas.jr)
    bad = client.post("/changes/new/", {**FORM, "dependencies": "on"})
    assert bad.status_code == 400 and "Justify every yes" in bad.content.decode()
    assert not Change.objects.exists()
    response = client.post(
        "/changes/new/", {**FORM, "dependencies": "on", "dependencies_why": "Mail needs DNS"}
    )
    change = Change.objects.get()
    assert response["Location"] == f"/changes/{change.number}/"
    assert (change.classification, change.status, change.affected_machines) == (
        "major",
        "awaiting_cab",
        ["ns1", "ns2"],
    )
    page = client.get(f"/changes/{change.number}/").content.decode()
    assert "Mail needs DNS" in page and "Dependencies on other applications" in page
    assert change.number in client.get("/changes/?status=awaiting_cab").content.decode()  # type: ignore[operator]


def test_a_minor_change_is_started_and_its_outcome_recorded(personas: Personas) -> None:
    change = submit(personas, answers=NO)
    client = logged_in(personas.jr)
    client.post(f"/changes/{change.number}/start/")
    change.refresh_from_db()
    assert change.status == ChangeStatus.IN_PROGRESS
    bad = client.post(f"/changes/{change.number}/outcome/", {"outcome": "failed", "note": ""})
    assert bad.status_code == 400 and "Say what went wrong." in bad.content.decode()
    client.post(
        f"/changes/{change.number}/outcome/",
        {"outcome": "implemented", "note": "", "actual_hours": "1.5"},
    )
    change.refresh_from_db()
    assert (change.status, str(change.actual_hours)) == ("implemented", "1.50")


def test_a_major_change_cannot_be_started_before_approval(personas: Personas) -> None:
    change = submit(personas, answers=MAJOR)
    response = logged_in(personas.jr).post(f"/changes/{change.number}/start/", follow=True)
    assert "cannot become" in response.content.decode()
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING_CAB


def test_a_change_request_ticket_becomes_a_change_linked_both_ways(personas: Personas) -> None:
    ticket = ticket_create(
        customer=personas.customer,
        subject="Please add a staging site",
        message="For testing releases",
        type="change_request",
        channel="portal",
        actor=personas.customer_user,
        now=WED_10,
    )
    client = logged_in(personas.jr)
    assert "Turn into a change" in client.get(f"/tickets/{ticket.number}/").content.decode()
    form = client.get(f"/changes/new/?ticket={ticket.number}").content.decode()
    assert "Please add a staging site" in form
    client.post(
        f"/changes/new/?ticket={ticket.number}",
        {**FORM, "subject": "Please add a staging site", "customer": ""},
    )
    change = Change.objects.get()
    assert (change.ticket, change.customer, change.subject) == (
        ticket,
        personas.customer,
        "Please add a staging site",
    )
    assert change.number in client.get(f"/tickets/{ticket.number}/").content.decode()  # type: ignore[operator]
    service = ticket_create(
        customer=personas.customer,
        subject="Password reset",
        message="For kees",
        type="service_request",
        channel="portal",
        actor=personas.customer_user,
        now=WED_10,
    )
    refused = client.post(f"/changes/new/?ticket={service.number}", FORM)
    assert (
        refused.status_code == 400
        and "Only a change request becomes a change." in refused.content.decode()
    )


def test_incidents_caused_by_a_change_are_linked(personas: Personas) -> None:
    change = submit(personas)
    incident = ticket_create(
        customer=personas.customer,
        subject="Site down after PHP upgrade",
        message="500s",
        type="incident",
        channel="phone",
        actor=personas.jr,
        now=WED_10,
    )
    client = logged_in(personas.jr)
    missing = client.post(f"/changes/{change.number}/incidents/", {"ticket": "T-999999"})
    assert missing.status_code == 400
    client.post(f"/changes/{change.number}/incidents/", {"ticket": incident.number})
    assert change.caused_incidents.get() == incident


def test_customers_never_reach_change_pages(personas: Personas) -> None:
    change = submit(personas)
    client = logged_in(personas.customer_user)
    for url in ("/changes/", "/changes/new/", f"/changes/{change.number}/"):
        assert client.get(url).status_code == 404
