"""The portal's update pages: a customer sees the updates of the company's own
machines from the appointment on, and approves an appointment; another
company's update answers 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from events.models import Event
from inventory.models import UpdateStatus
from inventory.update_services import update_approve
from tests.base import Personas
from tests.inventory.test_updates import (
    EVENING,
    Park,
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


def test_a_customer_sees_own_updates_from_the_appointment_on(
    personas: Personas, park: Park
) -> None:
    waiting = scheduled(update_of(park.shop01), personas, causes_downtime=True, downtime_minutes=15)
    research(update_of(park.web02), personas)  # internal: not shown yet
    other = scheduled(update_of(park.other01), personas)
    client = logged_in(personas.customer_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/portal/updates/").content.decode()
    assert str(waiting.number) in page and "shop01.example.nl" in page
    assert "about 15 minutes" in page
    assert "web02.example.nl" not in page
    assert str(other.number) not in page and "other01.example.nl" not in page
    first = len(queries)
    scheduled(update_of(park.web01), personas, at=EVENING.replace(day=14))
    with CaptureQueriesContext(connection) as queries:
        client.get("/portal/updates/")
    assert len(queries) == first


def test_a_customer_approves_the_appointment(personas: Personas, park: Park) -> None:
    update = scheduled(update_of(park.shop01), personas)
    client = logged_in(personas.customer_user)
    page = client.get(f"/portal/updates/{update.number}/").content.decode()
    assert "Approve the appointment" in page and "Staging" not in page
    response = client.post(
        f"/portal/updates/{update.number}/approve/", {"note": "Fine, the shop is quiet then."}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/portal/updates/{update.number}/"
    update.refresh_from_db()
    assert update.status == UpdateStatus.APPROVED
    assert update.approved_by == personas.customer_user
    assert update.approval_note == "Fine, the shop is quiet then."
    event = Event.objects.get(object_id=update.pk, to_state="approved")
    assert event.data["in_portal"] is True
    page = client.get(f"/portal/updates/{update.number}/").content.decode()
    assert "Approve the appointment" not in page and "Customer1" in page


def test_approving_twice_shows_an_error(personas: Personas, park: Park) -> None:
    update = scheduled(update_of(park.shop01), personas)
    update_approve(update=update, actor=personas.customer_user, now=update.created_at)
    response = logged_in(personas.customer_user).post(
        f"/portal/updates/{update.number}/approve/", follow=True
    )
    assert response.redirect_chain == [(f"/portal/updates/{update.number}/", 302)]
    assert "Not possible while the update is approved by customer" in response.content.decode()


def test_another_companys_update_is_not_found(personas: Personas, park: Park) -> None:
    update = scheduled(update_of(park.shop01), personas)
    client = logged_in(personas.other_customer_user)
    assert client.get(f"/portal/updates/{update.number}/").status_code == 404
    assert client.post(f"/portal/updates/{update.number}/approve/").status_code == 404
    update.refresh_from_db()
    assert update.status == UpdateStatus.SCHEDULED
    # A research stage is internal: not found for the own customer either.
    candidate = update_of(park.web01)
    mine = logged_in(personas.customer_user)
    assert mine.get(f"/portal/updates/{candidate.number}/").status_code == 404


def test_staff_do_not_use_the_portal_pages(personas: Personas, park: Park) -> None:
    assert logged_in(personas.sr).get("/portal/updates/").status_code == 404
