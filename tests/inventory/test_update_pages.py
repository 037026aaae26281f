"""The update pages: the planning, the machines behind, registering a release,
a candidate by hand, and an update's page with each step and its form; who may
open them, and query counts that do not grow with the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from inventory.models import MachineUpdate, SoftwareRelease, UpdateStatus
from inventory.update_services import (
    update_approve,
    update_install,
    update_register,
    update_test,
    update_verify,
)
from tests.base import Personas, make_user
from tests.inventory.test_updates import (
    EVENING,
    NOW,
    PLAN,
    Park,
    machine,
    make_park,
    release,
    research,
    scheduled,
    update_of,
)


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def park(personas: Personas) -> Park:
    park = make_park(personas)
    release(personas)
    return park


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_planning_lists_open_updates_in_constant_queries(
    personas: Personas, park: Park
) -> None:
    scheduled(update_of(park.shop01), personas)
    client = logged_in(personas.jr)
    first = _queries(client, "/network/updates/")
    page = client.get("/network/updates/").content.decode()
    assert str(update_of(park.web01).number) in page and "shop01.example.nl" in page
    for n in range(4):
        host = machine(personas, f"extra{n}.example.nl", customer=personas.customer)
        MachineUpdate.objects.create(
            item=host,
            software="nginx",
            new_version="1.26.2",
            number=f"U-9{n:05d}",
            created_at=NOW,
            updated_at=NOW,
        )
    scheduled(update_of(park.other01), personas, at=EVENING + timedelta(days=1))
    assert _queries(client, "/network/updates/") == first
    filtered = client.get("/network/updates/?status=scheduled").content.decode()
    assert "shop01.example.nl" in filtered and "web02.example.nl" not in filtered


def test_the_machines_behind_page(personas: Personas, park: Park) -> None:
    client = logged_in(personas.jr)
    first = _queries(client, "/network/updates/behind/")
    page = client.get("/network/updates/behind/").content.decode()
    assert "web01.example.nl" in page and "1.24.0" in page and "1.26.2" in page
    assert str(update_of(park.web01).number) in page
    assert "db01.example.nl" not in page  # runs the newest nginx
    release(personas, name="OpenSSL", version="3.0.15")
    assert _queries(client, "/network/updates/behind/") == first
    only = client.get("/network/updates/behind/?q=openssl").content.decode()
    assert "db01.example.nl" in only


def test_registering_a_release_on_the_page(personas: Personas, park: Park) -> None:
    client = logged_in(personas.jr)
    assert client.get("/network/updates/releases/new/").status_code == 200
    response = client.post(
        "/network/updates/releases/new/",
        {"name": "OpenSSL", "version": "3.0.15", "source": "openssl-announce"},
    )
    assert response.status_code == 302
    assert SoftwareRelease.objects.get(name="OpenSSL").version == "3.0.15"
    assert MachineUpdate.objects.filter(software="OpenSSL").count() == 6
    older = client.post("/network/updates/releases/new/", {"name": "OpenSSL", "version": "3.0.1"})
    assert older.status_code == 400 and "A newer release is known" in older.content.decode()


def test_a_candidate_by_hand_on_the_page(personas: Personas, park: Park) -> None:
    client = logged_in(personas.jr)
    page = client.get("/network/updates/new/?machine=web01.example.nl").content.decode()
    assert 'value="web01.example.nl"' in page
    unknown = client.post(
        "/network/updates/new/",
        {"hostname": "nope.example.nl", "software": "php", "new_version": "8.3.1"},
    )
    assert unknown.status_code == 400 and "No machine has this" in unknown.content.decode()
    response = client.post(
        "/network/updates/new/",
        {"hostname": "WEB01.example.nl", "software": "php", "new_version": "8.3.1"},
    )
    update = MachineUpdate.objects.get(software="php")
    assert response["Location"] == f"/network/updates/{update.number}/"


def test_research_on_the_page_makes_the_change(personas: Personas, park: Park) -> None:
    update = update_of(park.shop01)
    client = logged_in(personas.jr)
    page = client.get(f"/network/updates/{update.number}/").content.decode()
    assert "Record the research" in page
    bad = client.post(
        f"/network/updates/{update.number}/research/",
        {"impact": "", "applies": "yes", "causes_downtime": "yes", "customer_wants_it": "yes"},
    )
    assert bad.status_code == 400
    assert "Estimate the downtime" in bad.content.decode()
    response = client.post(
        f"/network/updates/{update.number}/research/",
        {
            "impact": "Security fix.",
            "applies": "yes",
            "causes_downtime": "no",
            "customer_wants_it": "yes",
        },
    )
    assert response.status_code == 302
    update.refresh_from_db()
    assert update.status == UpdateStatus.RESEARCHED and update.change is not None
    page = client.get(f"/network/updates/{update.number}/").content.decode()
    assert f"/changes/{update.change.number}/" in page
    assert "Make the appointment and inform the customer" in page


def test_no_appointment_without_a_test_plan_on_the_page(personas: Personas, park: Park) -> None:
    update = research(update_of(park.shop01), personas)
    client = logged_in(personas.jr)
    response = client.post(
        f"/network/updates/{update.number}/schedule/",
        {"appointment_at": "2099-03-12T22:00", "test_plan": ""},
    )
    assert response.status_code == 400
    assert "no test without a test plan" in response.content.decode()
    response = client.post(
        f"/network/updates/{update.number}/schedule/",
        {"appointment_at": "2099-03-12T22:00", "test_plan": PLAN},
    )
    assert response.status_code == 302
    update.refresh_from_db()
    assert update.status == UpdateStatus.SCHEDULED


def test_staff_record_the_approval_with_a_note(personas: Personas, park: Park) -> None:
    update = scheduled(update_of(park.shop01), personas)
    client = logged_in(personas.jr)
    bad = client.post(f"/network/updates/{update.number}/approve/", {"note": ""})
    assert bad.status_code == 400 and "how the customer approved" in bad.content.decode()
    client.post(f"/network/updates/{update.number}/approve/", {"note": "By phone."})
    update.refresh_from_db()
    assert update.status == UpdateStatus.APPROVED
    page = client.get(f"/network/updates/{update.number}/").content.decode()
    assert "Recorded by Jr" in page and "By phone." in page


def test_the_install_waits_for_the_cab_on_the_page(personas: Personas, park: Park) -> None:
    update = scheduled(
        update_of(park.web01),
        personas,
        causes_downtime=True,
        downtime_minutes=5,
        one_node_at_a_time=True,
    )
    update = update_approve(update=update, actor=personas.customer_user, now=NOW)
    update = update_test(update=update, passed=True, result="ok", actor=personas.sr, now=NOW)
    client = logged_in(personas.jr)
    response = client.post(f"/network/updates/{update.number}/install/", follow=True)
    assert "the CAB must approve it first" in response.content.decode()
    update.refresh_from_db()
    assert update.status == UpdateStatus.TESTED


def test_the_update_page_shows_each_step_with_who_and_when(personas: Personas, park: Park) -> None:
    update = scheduled(update_of(park.shop01), personas)
    update = update_approve(update=update, actor=personas.customer_user, now=NOW)
    update = update_test(
        update=update, passed=True, result="Staging ok.", actor=personas.sr, now=NOW
    )
    update = update_install(update=update, actor=personas.sr, now=EVENING)
    update = update_verify(
        update=update, passed=True, post_install_result="Sites up.", actor=personas.sr, now=EVENING
    )
    update_register(update=update, how_done="apt upgrade.", actor=personas.sr, now=EVENING)
    client = logged_in(personas.jr)
    first = _queries(client, f"/network/updates/{update.number}/")
    page = client.get(f"/network/updates/{update.number}/").content.decode()
    for text in ("Staging ok.", "Sites up.", "apt upgrade.", "Approved in the portal by Customer1"):
        assert text in page
    assert page.count("sr · ") >= 5  # who and when of the steps
    assert "update.transition" in page  # the history
    assert "Mark as failed" not in page
    assert first < 20


def test_who_may_open_the_update_pages(personas: Personas, park: Park) -> None:
    update = update_of(park.web01)
    viewer = make_user("viewer", roles=(Role.VIEWER,))
    page = logged_in(viewer).get(f"/network/updates/{update.number}/")
    assert page.status_code == 200 and "Record the research" not in page.content.decode()
    assert logged_in(viewer).post(f"/network/updates/{update.number}/fail/").status_code == 403
    assert logged_in(viewer).get("/network/updates/releases/new/").status_code == 403
    assert logged_in(personas.sales).get("/network/updates/").status_code == 403
    assert logged_in(personas.customer_user).get("/network/updates/").status_code == 404
    assert Client().get("/network/updates/").status_code == 302
    assert logged_in(personas.jr).get("/network/updates/U-999999/").status_code == 404
