"""Inbound mail: parsing real sample messages (tests/tickets/mails/), the rules
of the email channel, and the ingest_mail command in each of its modes."""

from __future__ import annotations

import hashlib
import imaplib
import io
import mailbox
import ssl
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from accounts.models import Customer
from events.tasks import send_notifications
from tests.base import Personas
from tests.tickets.test_ticket_services import WED_10
from tickets import mail_in
from tickets.mail_in import MailParseError, mail_ingest, parse_mail, strip_quoted
from tickets.models import (
    Attachment,
    CauseCode,
    InboundMail,
    InboundMailStatus,
    Ticket,
    TicketStatus,
)
from tickets.services import ticket_transition

MAILS = Path(__file__).parent / "mails"
# Sample replies carry the placeholder number T-000000; a test puts in the
# number its ticket really got (numbers follow database ids).
PLACEHOLDER = b"T-000000"


def sample(name: str, number: str | None = None) -> bytes:
    raw = (MAILS / name).read_bytes()
    return raw.replace(PLACEHOLDER, number.encode()) if number else raw


def ingest(name: str, number: str | None = None, now=WED_10) -> InboundMail:
    return mail_ingest(raw=sample(name, number), now=now)


# --- Parsing ----------------------------------------------------------------------


def test_a_plain_mail_gives_sender_subject_and_body() -> None:
    parsed = parse_mail(sample("plain-known-customer.eml"))
    assert parsed.message_id == "<20261125090209.4711@example.test>"
    assert (parsed.sender_address, parsed.sender_name) == ("customer1@example.test", "Customer One")
    assert parsed.sender_label == "Customer One <customer1@example.test>"
    assert parsed.subject == "Webshop shows error 502"
    assert parsed.ticket_number is None
    assert parsed.body.startswith("Hello,\n\nSince about 09:45")
    assert parsed.body.endswith("Hoogendijk Logistiek")
    assert parsed.attachments == [] and not parsed.is_auto_reply


def test_an_html_only_mail_becomes_readable_text() -> None:
    parsed = parse_mail(sample("html-only.eml"))
    assert parsed.subject == "Back-up van vannacht mislukt \u2013 graag controleren"
    assert parsed.sender_name == "Korenschoof, Customer Two"
    body = parsed.body
    assert "De back-up van db01 is vannacht niet gelukt.\nFoutmelding:" in body
    assert "- disk quota exceeded\n- retry failed at 03:00" in body
    assert "de statuspagina (https://status.example.test/backup/db01) & het log." in body
    assert body.endswith("Customer Two é€")
    for hidden in ("ignored title", "color: red", "alert", "<p>", "&amp;"):
        assert hidden not in body


def test_attachments_keep_name_type_and_bytes() -> None:
    parsed = parse_mail(sample("with-attachments.eml"))
    assert parsed.body == "The invoice is attached, and the log of this morning."
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("invoice 2026-11.pdf", "application/pdf"),
        # Sent as application/octet-stream; the name tells what it is.
        ("nginx-error.txt", "text/plain"),
    ]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")
    assert parsed.attachments[1].content.count(b"upstream timed out") == 5


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("reply-with-quote.eml", "Thanks, the shop works again. You can close the ticket."),
        ("reply-dutch-outlook.eml", "Hij doet het weer niet."),
    ],
)
def test_a_reply_is_threaded_by_number_and_loses_its_quoted_history(name: str, body: str) -> None:
    parsed = parse_mail(sample(name, "T-004711"))
    assert parsed.ticket_number == "T-004711"
    assert parsed.body == body


@pytest.mark.parametrize(
    ("name", "subject", "words"),
    [
        (
            "windows-1252.eml",
            "Kassa café € probleem",
            ["café-kassa", "€ 100", "coördinatie", "Zoë"],
        ),
        ("iso-8859-1-qp.eml", "Factuur één vraag", ["€ 25", "één", "coördinatie", "Renée"]),
    ],
)
def test_mail_in_other_charsets_arrives_intact(name: str, subject: str, words: list[str]) -> None:
    parsed = parse_mail(sample(name))
    assert parsed.subject == subject
    for word in words:
        assert word in parsed.body
    assert "\ufffd" not in parsed.body + parsed.subject + parsed.sender_name


def test_the_raw_latin1_sender_name_is_decoded() -> None:
    assert parse_mail(sample("windows-1252.eml")).sender_name == "Renée de Vriës"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-8",
        "text/plain; charset=x-unheard-of",
        "text/plain; charset=base64",  # a codec, but no text encoding
        "text/plain",
    ],
)
def test_undecodable_bytes_never_raise(content_type: str) -> None:
    raw = (
        b"From: a@example.test\nSubject: s\nMessage-ID: <u@x>\nContent-Type: "
        + content_type.encode()
        + b"\n\ncaf\xc3\xa9 and \xff\xfe broken \x80 \x00nul\n"
    )
    body = parse_mail(raw).body
    assert body.startswith("caf") and "broken" in body
    # PostgreSQL refuses NUL in text; it means nothing in a message anyway.
    assert "\x00" not in body and body.endswith("nul")


def test_a_mail_without_message_id_gets_a_stable_one() -> None:
    raw = b"From: a@example.test\nSubject: no id\n\nhello\n"
    first, second = parse_mail(raw).message_id, parse_mail(raw).message_id
    assert first == second
    assert first == f"<{hashlib.sha256(raw).hexdigest()}@servicedesk.local>"
    assert parse_mail(raw + b"more").message_id != first


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated; type=vacation",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: auto_reply",
        "Return-Path: <>",
    ],
)
def test_auto_reply_headers_are_recognised(header: str) -> None:
    raw = f"From: a@example.test\n{header}\nSubject: Away\n\nI am away.\n".encode()
    assert parse_mail(raw).is_auto_reply


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: no", "Precedence: list", "Return-Path: <a@example.test>"]
)
def test_ordinary_mail_is_no_auto_reply(header: str) -> None:
    raw = f"From: a@example.test\n{header}\nSubject: Help\n\nHelp.\n".encode()
    assert not parse_mail(raw).is_auto_reply


def test_sample_auto_reply_and_bounce_are_recognised() -> None:
    assert parse_mail(sample("auto-reply.eml")).auto_reply_reason == "Auto-Submitted: auto-replied"
    bounce = parse_mail(sample("bounce.eml"))
    assert bounce.is_auto_reply
    for trait in ("Return-Path: <>", "From: postmaster@mx.example.test"):
        other = sample("bounce.eml").replace(b"Return-Path: <>\n", b"")
        if trait.startswith("From"):
            other = other.replace(b"MAILER-DAEMON@", b"postmaster@")
        assert parse_mail(other).is_auto_reply
    report_only = sample("bounce.eml").replace(b"Return-Path: <>\n", b"")
    report_only = report_only.replace(b"MAILER-DAEMON@", b"relay@")
    assert parse_mail(report_only).auto_reply_reason == "delivery-status report"


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01\xff\xfe binary",
        b"no headers at all\n\njust text",
        b"Subject: who sent this?\n\nnobody knows\n",
    ],
)
def test_bytes_that_are_no_mail_do_not_parse(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_mail(raw)


def test_quotes_are_stripped_only_at_the_end() -> None:
    inline = "> Is it down?\nYes, since 9.\n> Which host?\nweb01\n\n> thanks\n> bye\n"
    assert strip_quoted(inline) == "> Is it down?\nYes, since 9.\n> Which host?\nweb01"
    wrapped = "Fixed.\n\nOp wo 25 nov. 2026 om 11:05 schreef Servicedesk <\nsd@x.test>:\n> old\n"
    assert strip_quoted(wrapped) == "Fixed."
    outlook = "Ok.\n\n________________________________\nFrom: Desk\nSent: Wednesday\nTo: me\n\nold"
    assert strip_quoted(outlook) == "Ok."
    own_words = "On Monday the log wrote:\nerror 42, then\nFrom: cron\nTo: root\n\nnothing"
    assert strip_quoted(own_words) == own_words
    only_quote = "> everything is quoted\n> nothing new\n"
    assert strip_quoted(only_quote) == only_quote.strip()


GMAIL_HTML = (
    '<div dir="ltr">Thanks, it works.<div><br></div><div>Kees</div></div><br>'
    '<div class="gmail_quote"><div class="gmail_attr">On Wed, 25 Nov 2026 at 11:05, '
    "Servicedesk &lt;sd@x.test&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote">We restarted it.<br><blockquote>older</blockquote>'
    "</blockquote></div>"
)
OUTLOOK_HTML = (
    '<html><body><p>Still broken.</p><hr><div id="divRplyFwdMsg"><b>Van:</b> Servicedesk '
    "&lt;sd@x.test&gt;<br><b>Verzonden:</b> woensdag 25 november 2026 11:05<br><b>Aan:</b> "
    "Kees<br><b>Onderwerp:</b> [T-000001] x</div><div>We restarted it.</div></body></html>"
)


@pytest.mark.parametrize(
    ("html", "body"),
    [(GMAIL_HTML, "Thanks, it works.\n\nKees"), (OUTLOOK_HTML, "Still broken.")],
)
def test_an_html_reply_loses_its_quoted_history(html: str, body: str) -> None:
    raw = (
        "From: kees@example.test\nSubject: Re: [T-000001] x\nContent-Type: text/html\n\n" + html
    ).encode()
    parsed = parse_mail(raw)
    assert parsed.body == body
    assert "restarted" not in parsed.body


# --- Ingesting --------------------------------------------------------------------


def test_mail_from_a_portal_user_becomes_a_ticket_of_their_customer(personas: Personas) -> None:
    inbound = ingest("plain-known-customer.eml")
    assert inbound.status == InboundMailStatus.CREATED
    ticket = Ticket.objects.get()
    assert inbound.ticket == ticket
    assert (ticket.customer, ticket.needs_triage) == (personas.customer, False)
    assert (ticket.channel, ticket.type, ticket.subject) == (
        "email",
        "incident",
        "Webshop shows error 502",
    )
    assert ticket.reply_to == "customer1@example.test"
    message = ticket.messages.get()
    assert message.from_customer and message.public
    assert message.author_label == "Customer One <customer1@example.test>"
    assert "502 Bad Gateway" in message.body
    assert (inbound.sender, inbound.raw) == ("customer1@example.test", None)


def test_the_customer_address_matches_case_insensitively(personas: Personas) -> None:
    personas.other_customer.email = "CUSTOMER2@example.test"
    personas.other_customer.save()
    personas.other_customer_user.email = "someone-else@example.test"
    personas.other_customer_user.save()
    ingest("html-only.eml")  # sent by Customer2@Example.Test
    assert Ticket.objects.get().customer == personas.other_customer


def test_the_same_mail_twice_makes_one_ticket(personas: Personas) -> None:
    first = ingest("plain-known-customer.eml")
    second = ingest("plain-known-customer.eml", now=WED_10 + timedelta(minutes=5))
    assert second.pk == first.pk and second.received_at == WED_10
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1


def test_a_reader_that_lost_the_race_returns_the_winners_row(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest("plain-known-customer.eml")
    # As if a second reader looked before the first one committed: its insert
    # hits the unique Message-ID and everything it did is rolled back.
    monkeypatch.setattr(mail_in, "_seen", lambda message_id: None)
    second = ingest("plain-known-customer.eml")
    assert second.pk == first.pk
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_readers_of_one_message_at_once_make_one_ticket() -> None:
    from tests.base import make_personas

    make_personas()
    barrier = threading.Barrier(2)
    results: list[InboundMail] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(ingest("plain-known-customer.eml"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {r.pk for r in results} == {InboundMail.objects.get().pk}
    assert Ticket.objects.count() == 1


def test_an_unknown_sender_gets_a_ticket_for_triage(personas: Personas) -> None:
    inbound = ingest("unknown-sender.eml")
    ticket = Ticket.objects.get()
    assert inbound.status == InboundMailStatus.CREATED
    assert ticket.customer is None and ticket.needs_triage
    assert ticket.assignee is None and ticket.sla_contract is None
    assert ticket.reply_to == "pieter@unknown-company.test"


def test_an_empty_mail_still_becomes_a_ticket(personas: Personas) -> None:
    mail_ingest(raw=b"From: x@example.test\nMessage-ID: <e@x>\nSubject:\n\n", now=WED_10)
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.messages.get().body) == ("(no subject)", "(empty message)")


def test_attachments_are_kept_on_the_message(personas: Personas) -> None:
    inbound = ingest("with-attachments.eml")
    assert inbound.reason == ""
    files = Attachment.objects.filter(message__ticket=inbound.ticket).order_by("filename")
    assert [(f.filename, f.content_type) for f in files] == [
        ("invoice 2026-11.pdf", "application/pdf"),
        ("nginx-error.txt", "text/plain"),
    ]
    with files[0].file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-1.4")


def test_a_forbidden_attachment_is_left_out_and_noted(personas: Personas) -> None:
    inbound = ingest("forbidden-attachment.eml")
    assert inbound.status == InboundMailStatus.CREATED
    kept = Attachment.objects.filter(message__ticket=inbound.ticket)
    assert [a.filename for a in kept] == ["notes.txt"]
    assert inbound.reason.startswith("Attachments not kept: repro.exe")
    assert "application/x-msdownload" in inbound.reason


@override_settings(ATTACHMENT_MAX_BYTES=200)
def test_an_oversized_attachment_is_left_out_and_noted(personas: Personas) -> None:
    inbound = ingest("with-attachments.eml")  # the PDF is 77 bytes, the log 335
    assert [a.filename for a in Attachment.objects.all()] == ["invoice 2026-11.pdf"]
    assert "nginx-error.txt" in inbound.reason and "invoice" not in inbound.reason
    assert "The invoice is attached" in inbound.ticket.messages.get().body  # type: ignore[union-attr]


def test_a_reply_resumes_the_waiting_ticket_without_the_quote(personas: Personas) -> None:
    ticket = ingest("plain-known-customer.eml").ticket
    assert ticket is not None
    ticket_transition(ticket=ticket, to="waiting_on_customer", actor=personas.jr, now=WED_10)
    later = WED_10 + timedelta(hours=1)
    inbound = ingest("reply-with-quote.eml", ticket.number, now=later)
    assert (inbound.status, inbound.ticket) == (InboundMailStatus.THREADED, ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    reply = ticket.messages.last()
    assert reply is not None and reply.from_customer
    assert reply.body == "Thanks, the shop works again. You can close the ticket."
    assert "QUOTED-HISTORY-MARKER" not in reply.body
    assert Ticket.objects.count() == 1


def test_a_reply_reopens_a_resolved_ticket(personas: Personas) -> None:
    ticket = ingest("plain-known-customer.eml").ticket
    assert ticket is not None
    ticket_transition(
        ticket=ticket,
        to="resolved",
        resolution="solved",
        cause_code=CauseCode.objects.get(code="configuration"),
        actor=personas.jr,
        now=WED_10,
    )
    ingest("reply-dutch-outlook.eml", ticket.number, now=WED_10 + timedelta(hours=2))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.last().body == "Hij doet het weer niet."  # type: ignore[union-attr]


def test_a_reply_to_a_closed_ticket_starts_a_follow_up(personas: Personas) -> None:
    old = ingest("unknown-sender.eml").ticket
    assert old is not None
    Ticket.objects.filter(pk=old.pk).update(status=TicketStatus.CLOSED)
    raw = (
        f"From: pieter@unknown-company.test\nSubject: Re: [{old.number}] Quote for a new server?\n"
        "Message-ID: <follow-up@unknown-company.test>\n\nStill interested.\n"
    ).encode()
    inbound = mail_ingest(raw=raw, now=WED_10 + timedelta(days=9))
    assert inbound.status == InboundMailStatus.CREATED
    new = inbound.ticket
    assert new is not None and new.pk != old.pk
    assert new.subject == "Re: Quote for a new server?"
    assert new.messages.get().body == f"Follow-up of {old.number}\n\nStill interested."


def test_a_number_that_does_not_exist_makes_a_new_ticket(personas: Personas) -> None:
    inbound = ingest("reply-with-quote.eml", "T-999999")
    assert inbound.status == InboundMailStatus.CREATED
    assert inbound.ticket is not None and inbound.ticket.customer == personas.customer


@pytest.mark.parametrize("name", ["auto-reply.eml", "bounce.eml"])
def test_auto_replies_and_bounces_make_nothing_and_send_nothing(
    personas: Personas, name: str
) -> None:
    ticket = ingest("plain-known-customer.eml").ticket
    assert ticket is not None
    send_notifications()
    mail.outbox.clear()
    inbound = ingest(name, ticket.number)
    assert (inbound.status, inbound.ticket) == (InboundMailStatus.IGNORED, None)
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 1
    assert send_notifications() == {"written": 0, "sent": 0}
    assert mail.outbox == []


def test_mail_from_the_desk_itself_is_ignored(personas: Personas) -> None:
    raw = b"From: Servicedesk <servicedesk@localhost>\nSubject: Loop\nMessage-ID: <l@x>\n\nx\n"
    with override_settings(DEFAULT_FROM_EMAIL="Servicedesk <ServiceDesk@localhost>"):
        inbound = mail_ingest(raw=raw, now=WED_10)
    assert inbound.status == InboundMailStatus.IGNORED and not Ticket.objects.exists()


def test_garbage_is_quarantined_with_its_raw_bytes(personas: Personas) -> None:
    raw = sample("garbage.eml")
    inbound = ingest("garbage.eml")
    assert inbound.status == InboundMailStatus.QUARANTINED
    assert bytes(inbound.raw) == raw  # type: ignore[arg-type]
    assert "no header fields" in inbound.reason
    assert ingest("garbage.eml").pk == inbound.pk
    assert not Ticket.objects.exists()


def test_a_failure_midway_leaves_no_half_made_ticket(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tickets import services

    write_message = services._message_create

    def refuse(**kwargs: object) -> None:
        write_message(**kwargs)  # type: ignore[arg-type]
        raise ValidationError("search index unavailable")

    # Fails after the ticket row and its first message were written.
    monkeypatch.setattr("tickets.services._message_create", refuse)
    raw = sample("plain-known-customer.eml")
    inbound = mail_ingest(raw=raw, now=WED_10)
    assert inbound.status == InboundMailStatus.QUARANTINED
    assert inbound.reason == "search index unavailable"
    assert bytes(inbound.raw) == raw  # type: ignore[arg-type]
    assert inbound.sender == "customer1@example.test" and inbound.ticket is None
    assert not Ticket.objects.exists()
    assert InboundMail.objects.count() == 1


def test_an_inactive_customer_is_left_to_triage(personas: Personas) -> None:
    Customer.objects.filter(pk=personas.customer.pk).update(active=False)
    ticket = ingest("plain-known-customer.eml").ticket
    assert ticket is not None and ticket.customer is None and ticket.needs_triage


# --- The command ------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest_mail", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_reads_one_file(personas: Personas) -> None:
    output = run("--file", str(MAILS / "plain-known-customer.eml"))
    number = Ticket.objects.get().number
    lines = output.splitlines()
    assert lines[0] == f"<20261125090209.4711@example.test> created {number}"
    assert lines[-1] == "1 message(s): 1 created"
    with pytest.raises(CommandError, match="Cannot read"):
        run("--file", str(MAILS / "missing.eml"))


def test_the_command_reads_standard_input(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(sample("windows-1252.eml")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    output = run("--stdin")
    assert "<cp1252-1@example.test> created T-" in output
    assert "€ 100" in Ticket.objects.get().messages.get().body


def test_the_command_reads_a_maildir_and_marks_what_it_read(
    personas: Personas, tmp_path: Path
) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    names = ["plain-known-customer.eml", "bounce.eml", "garbage.eml"]
    for name in names:
        box.add(sample(name))
    seen_before = mailbox.MaildirMessage(sample("unknown-sender.eml"))
    seen_before.set_subdir("cur")
    box.add(seen_before)
    output = run("--maildir", str(tmp_path / "Maildir"))
    assert output.splitlines()[-1] == ("4 message(s): 2 created, 1 ignored, 1 quarantined")
    assert Ticket.objects.count() == 2
    box = mailbox.Maildir(tmp_path / "Maildir", create=False)
    assert not list((tmp_path / "Maildir" / "new").iterdir())
    assert all(box.get_message(key).get_flags() == "S" for key in box.iterkeys())
    # The bytes in the Maildir are still the original message.
    assert sorted(box.get_bytes(key) for key in box.iterkeys()) == sorted(
        [sample(n) for n in names] + [sample("unknown-sender.eml")]
    )
    again = run("--maildir", str(tmp_path / "Maildir"))
    assert again.splitlines()[-1].startswith("4 message(s)")
    assert Ticket.objects.count() == 2
    with pytest.raises(CommandError, match="not a Maildir"):
        run("--maildir", str(tmp_path / "nowhere"))


class FakeImap:
    """Enough of imaplib.IMAP4 for ingest_mail: UID SEARCH, FETCH and STORE."""

    error = imaplib.IMAP4.error
    instances: list[FakeImap] = []
    messages: dict[bytes, bytes] = {}

    def __init__(self, host: str, port: int, **options: object) -> None:
        self.address = (host, port)
        self.options = options
        self.seen: set[bytes] = set()
        self.calls: list[str] = []
        FakeImap.instances.append(self)

    def login(self, user: str, password: str) -> tuple[str, list[bytes]]:
        self.calls.append(f"login {user} {password}")
        return "OK", [b"Logged in"]

    def select(self, folder: str) -> tuple[str, list[bytes]]:
        self.calls.append(f"select {folder}")
        return ("OK", [b"2"]) if folder == "INBOX" else ("NO", [b"no such folder"])

    def uid(self, command: str, *args: str) -> tuple[str, list]:
        self.calls.append(f"{command} {' '.join(args)}")
        if command == "SEARCH":
            unseen = [u for u in sorted(self.messages) if u not in self.seen]
            return "OK", [b" ".join(unseen)]
        uid = args[0].encode()
        if command == "FETCH":
            assert args[1] == "(BODY.PEEK[])"
            raw = self.messages[uid]
            return "OK", [(b"1 (UID " + uid + b" BODY[] {%d}" % len(raw), raw), b")"]
        if command == "STORE":
            assert args[1:] == ("+FLAGS", "(\\Seen)")
            self.seen.add(uid)
            return "OK", [b""]
        raise AssertionError(command)

    def logout(self) -> tuple[str, list[bytes]]:
        self.calls.append("logout")
        return "BYE", [b""]


def test_the_command_reads_unseen_imap_mail_and_marks_it_seen(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tickets.management.commands import ingest_mail

    FakeImap.instances = []
    FakeImap.messages = {b"7": sample("plain-known-customer.eml"), b"9": sample("auto-reply.eml")}
    monkeypatch.setattr(ingest_mail.imaplib, "IMAP4_SSL", FakeImap)
    monkeypatch.setattr(ingest_mail.imaplib, "IMAP4", FakeImap)
    monkeypatch.setenv("DESK_IMAP_PASSWORD", "s3cret")
    args = ["--imap", "imap.example.test", "--user", "desk", "--password-env", "DESK_IMAP_PASSWORD"]
    output = run(*args)
    imap = FakeImap.instances[0]
    assert imap.address == ("imap.example.test", 993)
    context = imap.options["ssl_context"]
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert imap.calls[:2] == ["login desk s3cret", "select INBOX"]
    assert imap.seen == {b"7", b"9"} and imap.calls[-1] == "logout"
    assert output.splitlines()[-1] == "2 message(s): 1 created, 1 ignored"
    assert Ticket.objects.count() == 1

    run(*args, "--no-ssl", "--port", "1143")
    assert FakeImap.instances[1].address == ("imap.example.test", 1143)
    assert "ssl_context" not in FakeImap.instances[1].options
    with pytest.raises(CommandError, match="folder"):
        run(*args, "--folder", "Archive")
    monkeypatch.delenv("DESK_IMAP_PASSWORD")
    with pytest.raises(CommandError, match="DESK_IMAP_PASSWORD"):
        run(*args)
