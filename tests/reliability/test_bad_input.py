"""Bad input, on purpose: bodies too large, malformed or in the wrong type for
the API; huge attachments through the portal and the API; hostile mails into
both mail ingesters. Every one gets a clear error (a JSON error, a form error,
a quarantined mail, an error result) and never a server error, an exception
or half of a ticket."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import IdempotencyRecord
from accounts.services import api_token_create
from backups.mail_in import Outcome, backup_mail_ingest
from backups.models import BackupRun
from events.tasks import send_notifications
from tests.backups.factories import make_backup_setup
from tests.base import Personas
from tickets.mail_in import mail_ingest
from tickets.models import (
    Attachment,
    InboundMail,
    InboundMailStatus,
    Message,
    Ticket,
)
from tickets.services import ticket_create

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
KNOWN = "customer1@example.test"  # the customer user of personas.customer
MB = 1024 * 1024


def _counts() -> tuple[int, int, int]:
    return Ticket.objects.count(), Message.objects.count(), Attachment.objects.count()


def _ticket(personas: Personas) -> Ticket:
    return ticket_create(
        customer=personas.customer,
        subject="Mail server unreachable",
        message="Since this morning nobody can send mail.",
        type="incident",
        channel="portal",
        actor=personas.customer_user,
        now=timezone.now(),
    )


# --- The API ----------------------------------------------------------------------


@pytest.fixture
def api(db: None) -> Client:
    key = api_token_create(name="bad-input", scopes="all").key
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def _post(api: Client, path: str, body: bytes, content_type: str, **extra: Any) -> Any:
    # generic(): the bytes go out exactly as given, whatever the content type says.
    return api.generic("POST", path, body, content_type=content_type, **extra)


def _is_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and body
    return body


def _ticket_body(**fields: Any) -> dict[str, Any]:
    return {"customer": "1000", "subject": "s", "message": "m", "type": "incident", **fields}


def test_an_oversized_json_body_is_refused_before_it_is_read(
    personas: Personas, api: Client
) -> None:
    # DRF reads the stream itself, past Django's check on request.body; the
    # parser applies DATA_UPLOAD_MAX_MEMORY_SIZE (this was a 6 MB read).
    filler = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps(_ticket_body(message=filler)).encode()
    for extra in ({}, {"HTTP_IDEMPOTENCY_KEY": "big-1"}):
        response = _post(api, "/api/v1/tickets/", body, "application/json", **extra)
        assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in _is_json_error(response, 413)["detail"]
    assert _counts() == (0, 0, 0) and not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "why"),
    [
        (b'{"customer": "1000",', "application/json", "cut off"),
        (b"{'customer': '1000'}", "application/json", "not JSON quoting"),
        (b'{"customer": "1000", "subject": "\xff\xfe"}', "application/json", "invalid UTF-8"),
        (b"\xc3\x28" * 50, "application/json", "invalid UTF-8 only"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
        (b'{"a": NaN}', "application/json", "NaN"),
        (b'{"a": ' + b"9" * 5000 + b"}", "application/json", "a 5000-digit number"),
        (b"{}", "application/json; charset=x-no-such-charset", "unknown charset"),
        (b"{}", "application/json; charset=base64", "a charset that is no text encoding"),
    ],
)
def test_malformed_json_is_a_400_with_a_reason(
    personas: Personas, api: Client, body: bytes, content_type: str, why: str
) -> None:
    response = _post(api, "/api/v1/tickets/", body, content_type)
    _is_json_error(response, 400)
    assert _counts() == (0, 0, 0), why


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"subject": "s\x00x"}, "subject"),
        ({"message": "m\ud800"}, "message"),
        # A NUL in a reference was a DataError on PostgreSQL (a 500): it
        # can neither store nor look up one. The parser refuses any NUL.
        ({"customer": "\x001000"}, "customer"),
        ({"extra": {"deep": ["x\x00"]}}, "extra"),
    ],
)
def test_text_the_database_cannot_hold_is_a_field_error(
    personas: Personas, api: Client, fields: dict[str, Any], wrong: str
) -> None:
    body = json.dumps(_ticket_body(**fields)).encode()
    errors = _is_json_error(_post(api, "/api/v1/tickets/", body, "application/json"), 400)
    assert list(errors) == [wrong]
    assert _counts() == (0, 0, 0)


def test_a_nul_in_a_path_is_a_404(personas: Personas, api: Client) -> None:
    # On PostgreSQL looking the reference up was a DataError (a 500).
    for path in ("/api/v1/tickets/%00/", "/api/v1/customers/1000%00/", "/api/v1/machines/a%00/"):
        assert _is_json_error(api.get(path), 404) == {"detail": "Not found."}


def test_a_session_cookie_with_a_nul_counts_as_no_session(db: None) -> None:
    # On PostgreSQL the session lookup was a DataError: every page a 500.
    client = Client(HTTP_COOKIE="sessionid=abcdefgh\x00ijklmnop")
    _is_json_error(client.get("/api/v1/customers/"), 401)
    assert client.get("/accounts/login/").status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "",
    ],
)
def test_a_body_that_is_not_json_is_a_415(
    personas: Personas, api: Client, content_type: str
) -> None:
    response = _post(api, "/api/v1/tickets/", b"customer=1000&subject=s", content_type)
    assert "Unsupported media type" in _is_json_error(response, 415)["detail"]
    assert _counts() == (0, 0, 0)


def test_a_huge_attachment_through_the_api_stores_nothing(personas: Personas, api: Client) -> None:
    # The API takes no files (JSON only): an upload is refused by its type
    # before the body is read, and as "JSON" by its size.
    ticket = _ticket(personas)
    before = _counts()
    payload = b"x" * (settings.ATTACHMENT_MAX_BYTES + 1)
    upload = (
        b'--xyz\r\nContent-Disposition: form-data; name="body"\r\n\r\nsee file\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="dump.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + payload + b"\r\n--xyz--\r\n"
    )
    path = f"/api/v1/tickets/{ticket.number}/messages/"
    _is_json_error(_post(api, path, upload, "multipart/form-data; boundary=xyz"), 415)
    as_json = json.dumps({"body": base64.b64encode(payload).decode()}).encode()
    _is_json_error(_post(api, path, as_json, "application/json"), 413)
    assert _counts() == before


@pytest.mark.parametrize("moment", ["1654-03-26T04:14:02Z", "9999-12-31T23:59:59-14:00"])
def test_a_time_outside_2000_to_2100_is_a_field_error(
    personas: Personas, api: Client, moment: str
) -> None:
    # 1654 came back as "+00:19:32" (Amsterdam local mean time), which no
    # RFC 3339 client reads; near 9999 the conversion to local time overflows.
    make_backup_setup(personas)
    body = {"job": "web01-files", "status": "success", "started_at": moment}
    response = _post(api, "/api/v1/backup-runs/", json.dumps(body).encode(), "application/json")
    assert set(_is_json_error(response, 400)) == {"started_at"}
    call = {"phone": "0101234567", "summary": "down", "received_at": moment}
    response = _post(api, "/api/v1/call-cards/", json.dumps(call).encode(), "application/json")
    assert set(_is_json_error(response, 400)) == {"received_at"}
    assert not BackupRun.objects.exists()


def test_query_parameters_with_nul_or_bad_utf8_get_json_answers(
    personas: Personas, api: Client
) -> None:
    # DRF's SearchFilter refuses a NUL with a bare list; the API answers
    # objects only (API.md), so it becomes {"non_field_errors": [...]}.
    errors = _is_json_error(api.get("/api/v1/customers/?search=a%00b"), 400)
    assert list(errors) == ["non_field_errors"]
    assert api.get("/api/v1/tickets/?search=%ff%fe").status_code == 200
    _is_json_error(api.get("/api/v1/tickets/?created_after=99999-01-01"), 400)
    # Year 1 an hour east of UTC is year 0 in UTC (an OverflowError, a 500);
    # PostgreSQL refuses offsets beyond ±15:59 (a DataError, a 500).
    for moment in ("0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-05:00"):
        _is_json_error(api.get(f"/api/v1/tickets/?created_after={moment}"), 400)
        _is_json_error(api.get(f"/api/v1/changes/?planned_before={moment}"), 400)
    assert api.get("/api/v1/changes/?planned_after=2026-07-29T17:00:46-16:30").status_code == 200
    _is_json_error(api.get("/api/v1/tickets/?cursor=%ff%ff"), 404)
    _is_json_error(api.get("/api/v1/tickets/?page=99999999999999999999"), 404)


def test_a_method_an_endpoint_does_not_have_is_a_405_not_a_403(
    personas: Personas, api: Client
) -> None:
    # No scope makes DELETE exist; HasScope used to answer 403 first.
    _is_json_error(api.delete("/api/v1/customers/"), 405)
    _is_json_error(api.generic("PUT", "/api/v1/backup-runs/", b"{}", "application/json"), 405)
    assert Client().delete("/api/v1/customers/").status_code == 401


# --- The portal ---------------------------------------------------------------------


@pytest.fixture
def portal(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.customer_user)
    return client


def test_a_huge_attachment_in_the_portal_is_a_form_error_and_stores_nothing(
    portal: Client,
) -> None:
    huge = SimpleUploadedFile(
        "dump.txt", b"x" * (settings.ATTACHMENT_MAX_BYTES + 1), content_type="text/plain"
    )
    data = {"type": "incident", "subject": "Logs", "message": "See file", "attachment": huge}
    response = portal.post("/portal/tickets/new/", data)
    assert response.status_code == 400
    assert "dump.txt is larger than" in response.content.decode()
    assert _counts() == (0, 0, 0)


def test_a_huge_attachment_in_a_portal_reply_stores_nothing(
    personas: Personas, portal: Client
) -> None:
    ticket = _ticket(personas)
    before = _counts()
    huge = SimpleUploadedFile(
        "dump.txt", b"x" * (settings.ATTACHMENT_MAX_BYTES + 1), content_type="text/plain"
    )
    response = portal.post(
        f"/portal/tickets/{ticket.number}/reply/", {"body": "the log", "attachment": huge}
    )
    assert response.status_code in (200, 400)
    assert _counts() == before


def test_an_oversized_or_overfull_form_post_is_a_400(portal: Client) -> None:
    big = b"type=incident&subject=s&message=" + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    many = b"&".join(b"f%d=1" % i for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    for body in (big, many):
        response = portal.generic(
            "POST", "/portal/tickets/new/", body, "application/x-www-form-urlencoded"
        )
        assert response.status_code == 400
    assert _counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--xyz\r\n\r\nbroken", "multipart/form-data; boundary=xyz"),
        (b"type=incident", "multipart/form-data"),  # no boundary at all
        (b"type=incident&subject=s%00&message=m", "application/x-www-form-urlencoded"),
    ],
)
def test_a_broken_form_post_is_a_400_and_stores_nothing(
    portal: Client, body: bytes, content_type: str
) -> None:
    response = portal.generic("POST", "/portal/tickets/new/", body, content_type)
    assert response.status_code == 400
    assert _counts() == (0, 0, 0)


@pytest.mark.parametrize("content_type", ["urlencoded", "multipart"])
def test_invalid_utf8_in_a_form_post_is_kept_as_replacement_characters(
    portal: Client, content_type: str
) -> None:
    # Not a 400: Django decodes form fields with errors="replace" (by design,
    # and for multipart inside its parser); what is stored is valid text.
    if content_type == "urlencoded":
        body = b"type=incident&subject=%ff%feVPN&message=down%c3%28"
        header = "application/x-www-form-urlencoded"
    else:
        fields = {"type": b"incident", "subject": b"\xff\xfeVPN", "message": b"down\xc3\x28"}
        body = (
            b"".join(
                b'--xyz\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                % (name.encode(), value)
                for name, value in fields.items()
            )
            + b"--xyz--\r\n"
        )
        header = "multipart/form-data; boundary=xyz"
    response = portal.generic("POST", "/portal/tickets/new/", body, header)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.subject == "\ufffd\ufffdVPN"
    assert ticket.messages.get().body == "down\ufffd("


# --- Hostile mail into tickets.mail_in ------------------------------------------------


def _mail(headers: list[tuple[str, str]], body: bytes, *, raw_headers: bytes = b"") -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode()
    return head + raw_headers + b"\r\n" + body


def _plain(**overrides: str | None) -> list[tuple[str, str]]:
    headers: dict[str, str | None] = {
        "From": f"Customer One <{KNOWN}>",
        "To": "support@servicedesk.example",
        "Subject": "Webshop down",
        "Date": "Wed, 25 Nov 2026 09:02:09 +0100",
        "Message-ID": "<hostile-1@example.test>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        **overrides,
    }
    return [(name, value) for name, value in headers.items() if value is not None]


def _nothing_is_nul_or_surrogate(*objects: Model) -> None:
    """No stored text has a NUL (PostgreSQL refuses it) or a lone surrogate."""
    for obj in objects:
        for field in obj._meta.concrete_fields:
            value = getattr(obj, field.attname)
            if isinstance(value, str):
                assert "\x00" not in value, (type(obj).__name__, field.name)
                value.encode("utf-8")  # raises on a lone surrogate


def ingest_whole_or_nothing(raw: bytes) -> InboundMail:
    """mail_ingest must not raise, and makes a whole ticket or nothing."""
    before = _counts()
    inbound = mail_ingest(raw=raw, now=NOW)
    after = _counts()
    inbound.refresh_from_db()
    _nothing_is_nul_or_surrogate(inbound)
    if inbound.status == InboundMailStatus.CREATED:
        assert inbound.ticket is not None
        message = inbound.ticket.messages.get()  # exactly the one message
        assert after == (before[0] + 1, before[1] + 1, before[2] + message.attachments.count())
        _nothing_is_nul_or_surrogate(inbound.ticket, message, *message.attachments.all())
    else:
        assert inbound.status in (InboundMailStatus.QUARANTINED, InboundMailStatus.IGNORED)
        assert inbound.ticket is None and after == before
        if inbound.status == InboundMailStatus.QUARANTINED:
            assert inbound.reason and bytes(inbound.raw or b"") == raw
    return inbound


def test_a_mail_without_from_is_quarantined_with_its_bytes(personas: Personas) -> None:
    inbound = ingest_whole_or_nothing(_mail(_plain(From=None), b"Hello"))
    assert inbound.status == InboundMailStatus.QUARANTINED
    assert "no sender address" in inbound.reason


def test_a_mail_without_date_or_message_id_is_still_a_whole_ticket_once(
    personas: Personas,
) -> None:
    raw = _mail(_plain(Date=None, **{"Message-ID": None}), b"Hello, the shop is down.")
    inbound = ingest_whole_or_nothing(raw)
    assert inbound.status == InboundMailStatus.CREATED
    assert inbound.message_id.endswith("@servicedesk.local>")  # from the content
    assert mail_ingest(raw=raw, now=NOW).pk == inbound.pk  # read once
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00" * 64, b"\r\n\r\n\r\n", b"just some text without headers", bytes(range(256)) * 8],
)
def test_bytes_that_are_no_mail_are_quarantined(personas: Personas, raw: bytes) -> None:
    assert ingest_whole_or_nothing(raw).status == InboundMailStatus.QUARANTINED


def _nested(depth: int, leaf: bytes) -> bytes:
    body = leaf
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return body


@pytest.mark.parametrize("depth", [50, 2000])
def test_deeply_nested_multiparts_never_raise(personas: Personas, depth: int) -> None:
    leaf = b"Content-Type: text/plain; charset=utf-8\r\n\r\nThe shop is down.\r\n"
    headers = [h for h in _plain() if h[0] != "Content-Type"]
    inbound = ingest_whole_or_nothing(_mail(headers, b"", raw_headers=_nested(depth, leaf)))
    if depth == 50:
        assert inbound.status == InboundMailStatus.CREATED
        assert inbound.ticket is not None
        assert "The shop is down." in inbound.ticket.messages.get().body
    else:  # the email package recurses per level: kept aside, raw bytes and all
        assert inbound.status == InboundMailStatus.QUARANTINED
        assert inbound.reason.startswith("RecursionError")


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain; charset=utf-8", b"caf\xe9 \x80", "caf\ufffd \ufffd"),
        ("text/plain; charset=x-no-such-charset", b"caf\xc3\xa9", "café"),
        ("text/plain; charset=base64", b"caf\xe9", "café"),
        ("text/plain", b"caf\xe9", "café"),  # undeclared, not UTF-8: Windows-1252
        ('text/plain; charset="utf-8', b"caf\xc3\xa9", "café"),
        ("text/plain; charset=utf-16", b"\xff", None),
    ],
)
def test_wrong_or_missing_charsets_never_raise(
    personas: Personas, content_type: str, body: bytes, expected: str | None
) -> None:
    inbound = ingest_whole_or_nothing(_mail(_plain(**{"Content-Type": content_type}), body))
    assert inbound.status == InboundMailStatus.CREATED and inbound.ticket is not None
    if expected is not None:
        assert inbound.ticket.messages.get().body == expected


def test_broken_encoded_words_and_raw_8bit_headers_never_raise(personas: Personas) -> None:
    raw = _mail(
        _plain(Subject="=?x-unknown?Q?Help?= =?utf-8?B?!!!notbase64?="),
        b"body",
        raw_headers=b"X-Note: caf\xe9\r\nComments: \xff\xfe\r\n",
    )
    inbound = ingest_whole_or_nothing(raw)
    assert inbound.status == InboundMailStatus.CREATED


def _attachment_mail(filename: str, content_type: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data)
    body = (
        b"--part\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attachment.\r\n"
        b"--part\r\nContent-Type: " + content_type.encode() + b"\r\n"
        b'Content-Disposition: attachment; filename="' + filename.encode() + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n--part--\r\n"
    )
    return _mail(_plain(**{"Content-Type": 'multipart/mixed; boundary="part"'}), body)


@override_settings(ATTACHMENT_MAX_BYTES=1 * MB)
def test_a_5_mb_attachment_beyond_the_limit_is_left_out_and_said_so(personas: Personas) -> None:
    raw = _attachment_mail("dump.pdf", "application/pdf", b"%PDF" + b"\x00" * (5 * MB))
    inbound = ingest_whole_or_nothing(raw)
    assert inbound.status == InboundMailStatus.CREATED
    assert "dump.pdf" in inbound.reason and "larger than 1 MB" in inbound.reason
    assert not Attachment.objects.exists()


def _zip_bomb() -> tuple[bytes, int]:
    """A small zip whose one member expands to 64 MB of zeros."""
    size = 64 * MB
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(size // MB):
            member.write(b"\x00" * MB)
    return buffer.getvalue(), size


def test_a_zip_bomb_is_stored_as_it_came_and_never_opened(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb, expands_to = _zip_bomb()
    assert len(bomb) < expands_to // 500  # small on the wire, huge inside
    opened: list[object] = []
    real_zipfile = zipfile.ZipFile

    def spy(*args: Any, **kwargs: Any) -> zipfile.ZipFile:
        opened.append(args)
        return real_zipfile(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", spy)
    inbound = ingest_whole_or_nothing(_attachment_mail("logs.zip", "application/zip", bomb))
    assert inbound.status == InboundMailStatus.CREATED
    stored = Attachment.objects.get()
    assert (stored.size, stored.content_type) == (len(bomb), "application/zip")
    with stored.file.open("rb") as handle:
        assert handle.read() == bomb
    # Also through the backup ingester, which has no use for attachments.
    make_backup_setup(personas)
    report = "Job: web01-files\r\nStatus: success\r\nStarted: 2026-11-25 01:00 +0100\r\n\r\nok\r\n"
    backup = _attachment_mail("logs.zip", "application/zip", bomb).replace(
        b"See the attachment.", report.encode()
    )
    assert backup_mail_ingest(raw=backup, now=NOW).outcome == Outcome.CREATED
    assert opened == []  # nobody looked inside


def test_header_injection_in_the_subject_stays_one_line(personas: Personas) -> None:
    subject = "=?utf-8?q?Help=0D=0ABcc:_attacker@evil.example=0D=0A=0D=0Abody?="
    inbound = ingest_whole_or_nothing(_mail(_plain(Subject=subject), b"The shop is down."))
    assert inbound.status == InboundMailStatus.CREATED and inbound.ticket is not None
    assert inbound.ticket.subject == "Help Bcc: attacker@evil.example body"
    send_notifications()  # the acknowledgement quotes the subject
    assert mail.outbox
    for sent in mail.outbox:
        assert "\n" not in sent.subject and "\r" not in sent.subject
        assert "attacker@evil.example" not in " ".join(sent.recipients())


def test_nul_bytes_anywhere_are_dropped_before_storing(personas: Personas) -> None:
    raw = _mail(
        _plain(
            From=f"Customer\x00One <{KNOWN}>",
            Subject="=?utf-8?q?Shop=00_down?=",
            **{"Message-ID": "<nul\x00id@example.test>"},
        ),
        b"The shop\x00 is down.\x00",
    )
    inbound = ingest_whole_or_nothing(raw)
    assert inbound.status == InboundMailStatus.CREATED and inbound.ticket is not None
    assert inbound.ticket.subject == "Shop down"
    assert inbound.message_id == "<nulid@example.test>"
    attachment = _attachment_mail("a\x00b.txt", "text/plain", b"x\x00y")
    attachment = attachment.replace(b"hostile-1", b"hostile-2")
    assert ingest_whole_or_nothing(attachment).status == InboundMailStatus.CREATED


def test_a_nul_in_the_sender_address_is_dropped(personas: Personas) -> None:
    raw = _mail(_plain(From="<customer1\x00@example.test>"), b"Hello")
    inbound = ingest_whole_or_nothing(raw)
    assert inbound.sender == KNOWN


def test_a_failure_half_way_leaves_no_half_ticket(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ticket and its message are written before the attachment; a
    # failure there (a full disk) must take them back with it.
    def disk_full(**kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tickets.services.attachment_store", disk_full)
    inbound = ingest_whole_or_nothing(_attachment_mail("log.txt", "text/plain", b"log"))
    assert inbound.status == InboundMailStatus.QUARANTINED
    assert "No space left on device" in inbound.reason


def test_a_very_long_subject_and_many_attachments_are_bounded(personas: Personas) -> None:
    parts = b"".join(
        b"--part\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="f%d.txt"\r\n\r\nx\r\n' % i
        for i in range(200)
    )
    raw = _mail(
        _plain(Subject="A" * 100_000, **{"Content-Type": 'multipart/mixed; boundary="part"'}),
        b"--part\r\nContent-Type: text/plain\r\n\r\nbody\r\n" + parts + b"--part--\r\n",
    )
    inbound = ingest_whole_or_nothing(raw)
    assert inbound.status == InboundMailStatus.CREATED and inbound.ticket is not None
    assert len(inbound.ticket.subject) == 200 and len(inbound.subject) == 500
    assert Attachment.objects.count() == 200


# --- Hostile mail into backups.mail_in -------------------------------------------------

REPORT = b"Job: web01-files\r\nStatus: success\r\nStarted: 2026-11-25 01:00 +0100\r\n\r\nok\r\n"


def _backup_headers(**overrides: str | None) -> list[tuple[str, str]]:
    defaults = {"From": "backup-script@backup3.example.nl", "Subject": "[backup] report"}
    return _plain(**{**defaults, **overrides})


def _backup(raw: bytes) -> Any:
    """backup_mail_ingest must not raise; an error stores nothing."""
    before = BackupRun.objects.count()
    result = backup_mail_ingest(raw=raw, now=NOW)
    after = BackupRun.objects.count()
    if result.outcome == Outcome.CREATED:
        assert after == before + 1 and result.run is not None
        _nothing_is_nul_or_surrogate(result.run)
    elif result.outcome == Outcome.UPDATED:
        assert after == before
    else:
        assert after == before and result.reason
    return result


@pytest.fixture
def jobs(personas: Personas) -> None:
    make_backup_setup(personas)


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (b"", Outcome.ERROR),
        (b"\x00" * 64, Outcome.ERROR),
        (_mail(_backup_headers(From=None), REPORT), Outcome.ERROR),
        (_mail(_backup_headers(Date=None, **{"Message-ID": None}), REPORT), Outcome.CREATED),
        (_mail(_backup_headers(), b"Job: web01-files\r\nStatus: success\r\n"), Outcome.ERROR),
        (_mail(_backup_headers(), REPORT.replace(b"2026", b"1654")), Outcome.ERROR),
        (_mail(_backup_headers(), REPORT.replace(b"2026", b"9999")), Outcome.ERROR),
        (
            _mail(_backup_headers(), REPORT.replace(b"Status: success", b"Status: \xff\xfe")),
            Outcome.ERROR,
        ),
        (
            _mail(
                _backup_headers(),
                REPORT.replace(b"\r\n\r\n", b"\r\nSize: 1" + b"0" * 5000 + b" TB\r\n\r\n"),
            ),
            Outcome.ERROR,
        ),
        (
            _mail(_backup_headers(), REPORT.replace(b"web01-files", b"web01-files\x00")),
            Outcome.CREATED,
        ),
        (
            _mail(_backup_headers(), REPORT.replace(b"web01-files", b"../../etc/passwd")),
            Outcome.ERROR,
        ),
    ],
)
def test_hostile_backup_mails_give_a_result_never_an_exception(
    jobs: None, raw: bytes, outcome: Outcome
) -> None:
    assert _backup(raw).outcome == outcome


def test_backup_mails_with_bad_charsets_nesting_and_injection_never_raise(jobs: None) -> None:
    headers = [h for h in _backup_headers() if h[0] != "Content-Type"]
    leaf = b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n" + REPORT
    assert _backup(_mail(headers, b"", raw_headers=_nested(50, leaf))).outcome == Outcome.CREATED
    too_deep = _backup(_mail(headers, b"", raw_headers=_nested(2000, leaf)))
    assert (too_deep.outcome, too_deep.reason) == (
        Outcome.ERROR,
        "unreadable mail: maximum recursion depth exceeded",
    )
    injected = _backup_headers(Subject="=?utf-8?q?[backup]_web01-files_SUCCESS=0D=0ABcc:_x?=")
    assert _backup(_mail(injected, b"Started: 2026-11-25 02:00 +0100\r\n")).outcome == Outcome.ERROR
    wrong = _backup_headers(**{"Content-Type": "text/plain; charset=utf-16"})
    assert _backup(_mail(wrong, REPORT)).outcome == Outcome.ERROR


@override_settings(ATTACHMENT_MAX_BYTES=1 * MB)
def test_a_backup_mail_with_a_5_mb_attachment_is_read_for_its_report(jobs: None) -> None:
    raw = _attachment_mail("dump.sql", "application/octet-stream", b"\x00" * (5 * MB))
    raw = raw.replace(b"See the attachment.", REPORT)
    raw = raw.replace(f"Customer One <{KNOWN}>".encode(), b"backup-script@backup3.example.nl")
    assert _backup(raw).outcome == Outcome.CREATED
