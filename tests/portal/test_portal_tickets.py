"""The customer portal's ticket pages: a customer sees, files and answers
their own company's tickets, confirms or rejects a resolution, follows the
SLA; another company's tickets and staff users get a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from portal.selectors import duration_text, remaining_text
from tests.base import Personas
from tickets.models import Attachment, CauseCode, Message, Ticket, TicketStatus
from tickets.services import (
    ticket_classify,
    ticket_create,
    ticket_message_add,
    ticket_transition,
)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ticket(user: User, subject: str = "Mail server unreachable", **extra: object) -> Ticket:
    return ticket_create(
        customer=user.customer,
        subject=subject,
        message="Since this morning nobody can send mail.",
        type="incident",
        channel="portal",
        actor=user,
        now=timezone.now(),
        **extra,  # type: ignore[arg-type]
    )


def _resolve(ticket: Ticket, personas: Personas) -> Ticket:
    return ticket_transition(
        ticket=ticket,
        to=TicketStatus.RESOLVED,
        actor=personas.jr,
        now=timezone.now(),
        resolution="solved",
        cause_code=CauseCode.objects.get(code="configuration"),
        note="The relay had a wrong certificate; replaced.",
    )


def _text_file(name: str = "log.txt", content_type: str = "text/plain") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"smtp: 421 service not available\n", content_type=content_type)


def test_the_list_and_home_show_only_the_own_company(personas: Personas) -> None:
    _ticket(personas.customer_user, "Our VPN is down")
    _ticket(personas.other_customer_user, "Korenschoof backup failed")
    client = _client(personas.customer_user)

    listing = client.get("/portal/tickets/").content.decode()
    assert "Our VPN is down" in listing
    assert "Korenschoof backup failed" not in listing
    home = client.get("/portal/").content.decode()
    assert "Our VPN is down" in home and "Korenschoof backup failed" not in home
    assert 'href="/portal/tickets/new/"' in home


def test_the_list_filters_open_and_closed_tickets_newest_first(personas: Personas) -> None:
    old = _ticket(personas.customer_user, "Older request")
    new = _ticket(personas.customer_user, "Newer request")
    done = _resolve(_ticket(personas.customer_user, "Finished work"), personas)
    ticket_transition(ticket=done, to=TicketStatus.CLOSED, actor=personas.jr, now=timezone.now())
    client = _client(personas.customer_user)

    open_page = client.get("/portal/tickets/").content.decode()
    assert "Finished work" not in open_page
    assert open_page.index(new.number) < open_page.index(old.number)  # type: ignore[arg-type]
    closed_page = client.get("/portal/tickets/?status=closed").content.decode()
    assert "Finished work" in closed_page and "Older request" not in closed_page
    everything = client.get("/portal/tickets/?status=all").content.decode()
    assert "Finished work" in everything and "Older request" in everything
    # An unknown filter falls back to the open tickets instead of failing.
    assert client.get("/portal/tickets/?status=bogus").status_code == 200


def test_the_list_is_paginated_by_25(personas: Personas) -> None:
    for n in range(26):
        _ticket(personas.customer_user, f"Request {n:02d}")
    client = _client(personas.customer_user)
    first = client.get("/portal/tickets/").content.decode()
    assert "Request 25" in first and "Request 00" not in first
    second = client.get("/portal/tickets/?page=2").content.decode()
    assert "Request 00" in second and "Request 25" not in second


def test_the_list_costs_the_same_queries_for_1_and_20_tickets(personas: Personas) -> None:
    client = _client(personas.customer_user)
    _ticket(personas.customer_user, "The first one")
    client.get("/portal/tickets/")  # warm the session and the user
    with CaptureQueriesContext(connection) as one:
        assert client.get("/portal/tickets/").status_code == 200
    for n in range(19):
        _ticket(personas.customer_user, f"One more {n}")
    with CaptureQueriesContext(connection) as twenty:
        page = client.get("/portal/tickets/")
    assert page.content.decode().count("/portal/tickets/T-") == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)


def test_another_companys_ticket_answers_404_everywhere(personas: Personas) -> None:
    foreign = _ticket(personas.other_customer_user, attachments=[_text_file("theirs.txt")])
    _resolve(foreign, personas)
    attachment = Attachment.objects.get(message__ticket=foreign)
    client = _client(personas.customer_user)
    base = f"/portal/tickets/{foreign.number}/"

    assert client.get(base).status_code == 404
    assert client.post(base + "reply/", {"body": "Me too"}).status_code == 404
    assert client.post(base + "confirm/").status_code == 404
    assert client.post(base + "reopen/", {"reason": "No"}).status_code == 404
    assert client.get(f"/attachments/{attachment.public_id}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == TicketStatus.RESOLVED
    assert foreign.messages.count() == 1


def test_staff_and_anonymous_users_do_not_use_the_portal(personas: Personas) -> None:
    ticket = _ticket(personas.customer_user)
    staff = _client(personas.jr)
    for url in ["/portal/tickets/", "/portal/tickets/new/", f"/portal/tickets/{ticket.number}/"]:
        assert staff.get(url).status_code == 404, url
        assert Client().get(url).status_code == 302, url
    assert staff.post(f"/portal/tickets/{ticket.number}/reply/", {"body": "x"}).status_code == 404


def test_internal_notes_and_their_attachments_never_reach_the_customer(
    personas: Personas,
) -> None:
    ticket = _ticket(personas.customer_user)
    note = ticket_message_add(
        ticket=ticket,
        body="Customer's relay is misconfigured, do not tell them yet.",
        public=False,
        actor=personas.jr,
        now=timezone.now(),
        attachments=[_text_file("internal.txt")],
    )
    ticket_message_add(
        ticket=ticket,
        body="We are checking the relay.",
        public=True,
        actor=personas.jr,
        now=timezone.now(),
    )
    page = _client(personas.customer_user).get(f"/portal/tickets/{ticket.number}/")
    text = page.content.decode()
    assert "We are checking the relay." in text
    assert "do not tell them yet" not in text
    assert "internal.txt" not in text
    secret = note.attachments.get()
    assert (
        _client(personas.customer_user).get(f"/attachments/{secret.public_id}/").status_code == 404
    )


def test_a_customer_files_a_ticket_with_an_attachment(personas: Personas) -> None:
    client = _client(personas.customer_user)
    response = client.post(
        "/portal/tickets/new/",
        {
            "type": "change_request",
            "subject": "Open port 8443 on the firewall",
            "message": "For the new admin panel.",
            "requested_priority": "1",
            "attachment": _text_file("rules.txt"),
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/tickets/{ticket.number}/"
    assert ticket.customer == personas.customer and ticket.requester == personas.customer_user
    assert (ticket.channel, ticket.type) == ("portal", "change_request")
    # The customer's proposal is kept beside the priority staff will classify.
    assert (ticket.requested_priority, ticket.classified) == (1, False)
    message = ticket.messages.get()
    assert message.from_customer and message.public
    assert message.attachments.get().filename == "rules.txt"

    page = client.get(response["Location"]).content.decode()
    assert f"Ticket {ticket.number} created." in page
    assert "rules.txt" in page and "For the new admin panel." in page


def test_filing_without_a_proposed_priority_keeps_it_empty(personas: Personas) -> None:
    client = _client(personas.customer_user)
    client.post(
        "/portal/tickets/new/",
        {"type": "information_request", "subject": "Invoice question", "message": "Why?"},
    )
    assert Ticket.objects.get().requested_priority is None


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"subject": "", "message": "x", "type": "incident"}, "This field is required."),
        ({"subject": "x", "message": "", "type": "incident"}, "This field is required."),
        ({"subject": "x", "message": "x", "type": "complaint"}, "Select a valid choice."),
        (
            {"subject": "x", "message": "x", "type": "incident", "requested_priority": "7"},
            "Select a valid choice.",
        ),
    ],
)
def test_bad_input_shows_form_errors_and_stores_nothing(
    personas: Personas, data: dict[str, str], field_error: str
) -> None:
    response = _client(personas.customer_user).post("/portal/tickets/new/", data)
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_refused_attachment_is_a_form_error_and_nothing_is_stored(personas: Personas) -> None:
    response = _client(personas.customer_user).post(
        "/portal/tickets/new/",
        {
            "type": "incident",
            "subject": "Virus?",
            "message": "See the file.",
            "attachment": _text_file("setup.exe", "application/x-msdownload"),
        },
    )
    assert response.status_code == 400
    assert "cannot be attached" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_a_customer_replies_with_an_attachment(personas: Personas) -> None:
    ticket = _ticket(personas.customer_user)
    client = _client(personas.customer_user)
    url = f"/portal/tickets/{ticket.number}/reply/"
    response = client.post(url, {"body": "Here is the log.", "attachment": _text_file()})
    assert response.status_code == 302
    reply = ticket.messages.order_by("-id").first()
    assert reply is not None
    assert (reply.body, reply.public, reply.from_customer) == ("Here is the log.", True, True)
    assert reply.attachments.get().filename == "log.txt"
    page = client.get(response["Location"]).content.decode()
    assert "Reply sent." in page and "Here is the log." in page and "log.txt" in page

    empty = client.post(url, {"body": "  "})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    assert ticket.messages.count() == 2


def test_the_answer_of_a_waiting_ticket_resumes_it(personas: Personas) -> None:
    ticket = _ticket(personas.customer_user)
    ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=personas.jr, now=timezone.now())
    ticket_transition(
        ticket=ticket, to=TicketStatus.WAITING_ON_CUSTOMER, actor=personas.jr, now=timezone.now()
    )
    client = _client(personas.customer_user)
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "paused \N{EN DASH} waiting for your answer" in page
    client.post(f"/portal/tickets/{ticket.number}/reply/", {"body": "The log is attached."})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_confirming_the_solution_closes_the_ticket(personas: Personas) -> None:
    ticket = _resolve(_ticket(personas.customer_user), personas)
    client = _client(personas.customer_user)
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "The relay had a wrong certificate; replaced." in page
    assert "Confirm the solution" in page and "Not solved" in page

    response = client.post(f"/portal/tickets/{ticket.number}/confirm/")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    page = client.get(response["Location"]).content.decode()
    assert "This ticket is closed." in page and "Confirm the solution" not in page


def test_not_solved_with_a_reason_reopens_the_ticket(personas: Personas) -> None:
    ticket = _resolve(_ticket(personas.customer_user), personas)
    client = _client(personas.customer_user)
    url = f"/portal/tickets/{ticket.number}/reopen/"

    missing = client.post(url, {"reason": ""})
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED

    assert client.post(url, {"reason": "Mail still bounces."}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.order_by("-id")[0].body == "Mail still bounces."


def test_confirming_a_ticket_that_is_not_resolved_is_a_form_error(personas: Personas) -> None:
    ticket = _ticket(personas.customer_user)
    client = _client(personas.customer_user)
    confirm = client.post(f"/portal/tickets/{ticket.number}/confirm/")
    assert confirm.status_code == 400
    assert "Only a resolved ticket can be confirmed." in confirm.content.decode()
    reopen = client.post(f"/portal/tickets/{ticket.number}/reopen/", {"reason": "Still broken"})
    assert reopen.status_code == 400
    assert "Only a resolved ticket can be reopened." in reopen.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_the_sla_block_shows_the_contracts_targets_and_live_clocks(personas: Personas) -> None:
    ticket = _ticket(personas.customer_user)
    client = _client(personas.customer_user)
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    # Managed hosting, P2 (a customer's proposal does not classify): 1 h and
    # 16 h on business hours.
    assert "Managed hosting" in page and "P2" in page
    assert "1 h (business hours)" in page and "16 h (business hours)" in page
    assert "Business hours Mon-Fri 08:30-17:30" in page
    due = timezone.localtime(ticket.response_due_at).isoformat()
    assert f'class="sla-clock" datetime="{due}"' in page
    assert page.count('class="sla-clock') == 2
    assert "js/sla-clock.js" in page

    ticket = ticket_classify(
        ticket=ticket, impact="high", urgency="high", actor=personas.jr, now=timezone.now()
    )
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "4 h (24x7)" in page and "24x7, day and night" in page

    ticket_message_add(
        ticket=ticket, body="On it.", public=True, actor=personas.jr, now=timezone.now()
    )
    page = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    # The response target is met; only the resolution clock still runs.
    assert ">met<" in page and page.count('class="sla-clock') == 1


def test_the_sla_block_of_the_other_contract(personas: Personas) -> None:
    ticket = _ticket(personas.other_customer_user)
    ticket = ticket_classify(
        ticket=ticket, impact="high", urgency="high", actor=personas.jr, now=timezone.now()
    )
    page = _client(personas.other_customer_user).get(f"/portal/tickets/{ticket.number}/")
    text = page.content.decode()
    assert "Standard" in text and "4 h (business hours)" in text and "24x7" not in text


def test_remaining_time_is_written_as_the_script_writes_it() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert remaining_text(now + timedelta(hours=2, minutes=14, seconds=59), now) == (
        "2 h 14 min left"
    )
    assert remaining_text(now - timedelta(minutes=45, seconds=30), now) == "45 min overdue"
    assert remaining_text(now + timedelta(days=3, hours=1, minutes=5), now) == "3 d 1 h left"
    assert duration_text(timedelta(seconds=59)) == "0 min"


def test_customers_see_their_changes_with_decision_and_window(personas: Personas) -> None:
    from datetime import timedelta

    from changes.services import change_submit

    now = timezone.now()
    answers = {
        "multiple_users": False,
        "dependencies": False,
        "unsupported": False,
        "investment": False,
    }
    mine = change_submit(
        subject="Staging site",
        message="For testing",
        impact="low",
        urgency="low",
        answers=answers,
        justifications={},
        customer=personas.customer,
        actor=personas.jr,
        now=now,
        planned_start=now + timedelta(days=2),
        planned_end=now + timedelta(days=2, hours=1),
    )
    theirs = change_submit(
        subject="Other",
        message="x",
        impact="low",
        urgency="low",
        answers=answers,
        justifications={},
        customer=personas.other_customer,
        actor=personas.jr,
        now=now,
    )
    client = Client()
    client.force_login(personas.customer_user)
    listing = client.get("/portal/changes/").content.decode()
    assert str(mine.number) in listing and str(theirs.number) not in listing
    assert "Staging site" in client.get(f"/portal/changes/{mine.number}/").content.decode()
    assert client.get(f"/portal/changes/{theirs.number}/").status_code == 404
