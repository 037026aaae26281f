"""Inbound mail: a raw message becomes a ticket, a message on a ticket, or a
recorded refusal (ignored auto-reply, quarantined garbage).

`parse_mail` is pure: bytes in, a ParsedMail out, no database. `mail_ingest`
applies the rules of the email channel through the ticket services, exactly
once per Message-ID (InboundMail.message_id is unique)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from accounts.models import Customer, User
from tickets.models import (
    Channel,
    InboundMail,
    InboundMailStatus,
    Ticket,
    TicketStatus,
    TicketType,
)
from tickets.services import attachment_check, ticket_create, ticket_message_add

logger = logging.getLogger(__name__)

TICKET_NUMBER = re.compile(r"\[(T-\d{6,})\]")
NO_SUBJECT = "(no subject)"
EMPTY_MESSAGE = "(empty message)"


class MailParseError(ValueError):
    """The bytes are not a mail that can be answered (no headers, no sender)."""


class MailAttachment(NamedTuple):
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender_address: str
    sender_name: str
    subject: str
    ticket_number: str | None
    body: str
    attachments: list[MailAttachment] = field(default_factory=list)
    is_auto_reply: bool = False
    auto_reply_reason: str = ""

    @property
    def sender_label(self) -> str:
        """How the sender is shown as the author of a message."""
        if self.sender_name and self.sender_name != self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_address


# --- Decoding -------------------------------------------------------------------

# Mail that declares Latin-1 or ASCII is in practice often Windows-1252 (the €
# sign, curly quotes); 1252 is a superset for every printable Latin-1 character,
# so decoding as 1252 loses nothing and recovers those (browsers do the same).
_AS_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "cp819"}
_UNDECLARED = {"", "us-ascii", "ascii", "unknown-8bit", "x-unknown"}
_SURROGATES = re.compile("[\udc80-\udcff]")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in the declared charset; never raises. Undeclared or
    unknown charsets try UTF-8 and fall back to Windows-1252; bytes that do not
    decode become U+FFFD."""
    name = (charset or "").strip().strip('"').lower()
    if name in _AS_WINDOWS_1252:
        name = "windows-1252"
    if name not in _UNDECLARED:
        try:
            return data.decode(name, errors="replace")
        except LookupError:  # an unknown name, or no text encoding at all ("base64")
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace")


def _fix_surrogates(text: str) -> str:
    """The email package keeps undeclared 8-bit header bytes as surrogates;
    they cannot be stored, so they are decoded like an undeclared body."""
    if not _SURROGATES.search(text):
        return text
    try:
        data = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        data = text.encode("utf-8", errors="replace")
    return decode_bytes(data, None)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(text: str) -> str:
    """Control characters (NUL above all, which PostgreSQL refuses in text)
    carry no meaning in a message; tabs and line breaks stay."""
    return _CONTROL.sub("", text)


def _raw_header(msg: Message, name: str) -> str:
    """The first header `name` as written (encoded words intact), unfolded."""
    try:
        for key, value in msg.raw_items():
            if key.lower() == name.lower():
                return " ".join(_fix_surrogates(str(value)).split())
    except Exception:  # a header the parser choked on counts as absent
        logger.debug("unreadable header %s", name, exc_info=True)
    return ""


def _header(msg: Message, name: str) -> str:
    """The first header `name` as readable text (encoded words decoded)."""
    value = _raw_header(msg, name)
    if "=?" not in value:
        return value
    try:
        decoded = str(make_header(decode_header(value)))
    except Exception:  # a broken encoded word: keep it as written
        return value
    return " ".join(_fix_surrogates(decoded).split())


def _sender(msg: Message) -> tuple[str, str]:
    """(address, display name) of the first From address."""
    raw = _raw_header(msg, "From")
    if not raw:
        return "", ""
    try:
        addresses = email.policy.default.header_factory("from", raw).addresses
        pairs = [(a.display_name, a.addr_spec) for a in addresses]
    except Exception:  # the strict parser failed: the lenient one still finds something
        pairs = getaddresses([raw])
    for name, address in pairs:
        # A NUL (which PostgreSQL refuses) or another control character is no
        # part of an address; left in, the mail could not even be quarantined.
        address = _printable(address).strip().strip("<>")
        if address:
            return address, _fix_surrogates(" ".join(name.split()))
    return "", ""


# --- HTML to text ---------------------------------------------------------------


class _HtmlText(HTMLParser):
    """Readable text from an HTML mail body: blocks become lines, list items
    get a dash, links keep their target, blockquotes are quoted with ">" so
    the quote stripper treats them like quoted plain text."""

    BLOCKS = {
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
    PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote"}
    SKIPPED = {"head", "script", "style", "title", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []

    def _flush(self, *, blank: bool = False) -> None:
        text = "".join(self.current)
        self.current = []
        prefix = "> " * self.quote_depth
        chunks = text.split("\n") if self.pre_depth else [" ".join(text.split())]
        for chunk in chunks:
            if chunk.strip() or self.pre_depth:
                self.lines.append(prefix + chunk.rstrip())
        if blank and self.lines and self.lines[-1].strip("> "):
            self.lines.append(prefix.rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skip_depth += 1
        elif tag == "br":
            if "".join(self.current).strip():
                self._flush()
            else:  # a <br> on its own is how editors write an empty line
                self.current = []
                self.lines.append(("> " * self.quote_depth).rstrip())
        elif tag in self.BLOCKS:
            self._flush(blank=tag in self.PARAGRAPHS)
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
            elif tag == "li":
                self.current.append("- ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag in ("td", "th"):
            self.current.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":  # <a/> has no text and no end tag
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self.BLOCKS:
            self._flush(blank=tag in self.PARAGRAPHS)
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.current)
            # A link whose text is not its address would lose the address.
            if href and href.startswith(("http:", "https:")) and href not in shown:
                self.current.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.current.append(data)

    def text(self) -> str:
        self._flush()
        return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines)).strip()


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this guards against the unforeseen
        logger.debug("HTML body not fully converted", exc_info=True)
    return parser.text()


# --- Quoted history -------------------------------------------------------------

_WROTE = re.compile(
    r"^\s*(On\s.+\swrote|Op\s.+\sschreef\s.*|Am\s.+\sschrieb\s.*):\s*$", re.IGNORECASE
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Oorspronkelijk bericht|Ursprüngliche Nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Van|Von):\*?\s", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(Sent|Date|Verzonden|Datum|Gesendet):\*?\s", re.IGNORECASE)
_RULE = re.compile(r"^\s*[_\-=]{8,}\s*$")


def _reply_header_at(lines: list[str], i: int) -> bool:
    if _ORIGINAL.match(lines[i]):
        return True
    # Clients wrap long "On <date>, <name> <address> wrote:" lines, so two and
    # three joined lines are tried too. The date in it (a digit) keeps a
    # sentence of the customer's own ("On Monday the log wrote: …") intact.
    for span in (1, 2, 3):
        if i + span > len(lines):
            break
        joined = " ".join(line.strip() for line in lines[i : i + span])
        if _WROTE.match(joined) and re.search(r"\d", joined):
            return True
    # Outlook quotes no lines; its reply header is a From line with a Sent or
    # Date line right below.
    if _OUTLOOK_FROM.match(lines[i]):
        return any(_OUTLOOK_SENT.match(line) for line in lines[i + 1 : i + 4])
    return False


def strip_quoted(text: str) -> str:
    """The new part of a reply: everything from the first reply header ("On …
    wrote:", "Op … schreef …:", an "Original Message" rule or an Outlook
    From/Sent block) on is dropped, then a block of ">" lines at the end.
    Quotes answered inline in the middle stay. A mail that is nothing but
    quote is kept whole rather than lost."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = next((i for i in range(len(lines)) if _reply_header_at(lines, i)), len(lines))
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    while kept and (not kept[-1].strip() or _RULE.match(kept[-1])):
        kept.pop()
    result = "\n".join(line.rstrip() for line in kept).strip("\n")
    return result if result.strip() else text.strip()


# --- Parsing --------------------------------------------------------------------

_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply"}
_DAEMONS = {"mailer-daemon", "postmaster"}
# Read receipts are as automatic as bounces; answering either risks a loop.
_AUTO_REPORTS = {"delivery-status", "disposition-notification"}


def _auto_reply_reason(msg: Message, sender_address: str) -> str:
    auto = _header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if msg.get(name) is not None:
            return f"{name} header"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if msg.get("Return-Path") is not None and "".join(_header(msg, "Return-Path").split()) == "<>":
        return "empty Return-Path"
    if sender_address.split("@")[0].lower() in _DAEMONS:
        return f"sent by {sender_address}"
    if msg.get_content_type() == "multipart/report":
        report = str(msg.get_param("report-type") or "").lower()
        if report in _AUTO_REPORTS:
            return f"{report} report"
    return ""


def _message_id(msg: Message, raw: bytes) -> str:
    value = _printable(_raw_header(msg, "Message-ID"))
    if value and len(value) <= 255:
        return value
    # Without one (or with an unstorable one) the content itself identifies the
    # mail, so reading the same bytes again is still recognised.
    return f"<{hashlib.sha256(raw).hexdigest()}@servicedesk.local>"


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or bool(part.get_filename())


def _leaves(msg: Message) -> list[Message]:
    """Every leaf part in order. A message/* part (a forwarded mail, a delivery
    report) is one leaf, kept whole as an attachment rather than opened up."""
    payload = msg.get_payload()
    if msg.get_content_maintype() != "message" and msg.is_multipart() and isinstance(payload, list):
        return [leaf for part in payload if isinstance(part, Message) for leaf in _leaves(part)]
    return [msg]


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):  # message/*: the enclosed message(s) as written
        return b"".join(
            bytes(inner.as_bytes(policy=email.policy.SMTP))
            for inner in payload
            if isinstance(inner, Message)
        )
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _content_type(part: Message, filename: str) -> str:
    declared = part.get_content_type()
    # Many clients label every file application/octet-stream; the name says
    # more, as it does for a browser upload.
    if declared == "application/octet-stream":
        guessed, _encoding = mimetypes.guess_type(filename)
        return guessed or declared
    return declared


def _attachment(part: Message, number: int) -> MailAttachment:
    content_type = part.get_content_type()
    name = _printable(_fix_surrogates(part.get_filename() or "")).strip()
    if not name:
        extension = ".eml" if content_type == "message/rfc822" else ""
        extension = extension or mimetypes.guess_extension(content_type) or ".bin"
        name = f"attachment-{number}{extension}"
    return MailAttachment(name, _content_type(part, name), _part_bytes(part))


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    raw = data if isinstance(data, bytes) else b""
    try:
        charset = part.get_content_charset()
    except Exception:  # a malformed charset parameter counts as undeclared
        charset = None
    return decode_bytes(raw, charset)


def parse_mail(raw: bytes) -> ParsedMail:
    """Everything the email channel needs from a raw message. Raises
    MailParseError for bytes that are no answerable mail."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not list(msg.keys()):
        raise MailParseError("no header fields")
    sender_address, sender_name = _sender(msg)
    auto_reason = _auto_reply_reason(msg, sender_address)
    if "@" not in sender_address and not auto_reason:
        raise MailParseError("no sender address")
    subject = _header(msg, "Subject")
    number = TICKET_NUMBER.search(subject)

    plains: list[Message] = []
    html: Message | None = None
    # A multipart whose boundary is missing arrives as one unparsed leaf; its
    # text is better than an empty message.
    broken: Message | None = None
    attachments: list[MailAttachment] = []
    for part in _leaves(msg):
        content_type, main_type = part.get_content_type(), part.get_content_maintype()
        if not _is_attachment(part):
            # Some clients split the text around inline images into several
            # text/plain parts; together they are the body. A single-part mail
            # of another text type (text/enriched) is its own body too.
            own_body = part is msg and main_type == "text" and content_type != "text/html"
            if content_type == "text/plain" or own_body:
                plains.append(part)
                continue
            if content_type == "text/html":
                html = html or part  # later ones are alternatives of the same body
                continue
            if main_type == "multipart":
                broken = broken or part
                continue
        attachments.append(_attachment(part, len(attachments) + 1))

    if plains:
        text = "\n\n".join(_text_of(part).strip("\r\n") for part in plains)
    elif html is not None:
        text = html_to_text(_text_of(html))
    elif broken is not None:
        text = _text_of(broken)
    else:
        text = ""
    return ParsedMail(
        message_id=_message_id(msg, raw),
        sender_address=sender_address,
        sender_name=_printable(sender_name),
        subject=_printable(subject),
        ticket_number=number.group(1) if number else None,
        body=_printable(strip_quoted(text)) if text.strip() else "",
        attachments=attachments,
        is_auto_reply=bool(auto_reason),
        auto_reply_reason=auto_reason,
    )


# --- Ingesting ------------------------------------------------------------------


def customer_for_sender(address: str) -> Customer | None:
    """The customer a sender belongs to: through a portal user with that
    address, else through the customer's own address. Ambiguous or inactive
    matches give None, so a person triages rather than guesses."""
    if not address:
        return None
    by_user = set(
        User.objects.filter(
            email__iexact=address, is_active=True, customer__isnull=False, customer__active=True
        ).values_list("customer_id", flat=True)
    )
    ids = by_user or set(
        Customer.objects.filter(email__iexact=address, active=True).values_list("pk", flat=True)
    )
    if len(ids) != 1:
        return None
    return Customer.objects.get(pk=ids.pop())


def _own_address(address: str) -> bool:
    # Mail that claims to come from the desk itself would be acknowledged to
    # the desk itself, again and again.
    own = {a.lower() for _name, a in getaddresses([settings.DEFAULT_FROM_EMAIL]) if a}
    return address.lower() in own


def _uploads(parsed: ParsedMail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments within the limits, and a note per attachment that is
    not, so the mail itself is never lost for a file."""
    kept: list[SimpleUploadedFile] = []
    skipped: list[str] = []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(
            attachment.filename, attachment.content, content_type=attachment.content_type
        )
        try:
            attachment_check(upload)
        except ValidationError as error:
            skipped.append(f"{attachment.filename}: {' '.join(error.messages)}")
        else:
            kept.append(upload)
    return kept, skipped


def _without_number(subject: str) -> str:
    return " ".join(TICKET_NUMBER.sub(" ", subject).split())


def _route(inbound: InboundMail, parsed: ParsedMail, now: datetime) -> None:
    """Decide what the mail becomes and do it; fills in the inbound row."""
    if parsed.is_auto_reply:
        inbound.status, inbound.reason = InboundMailStatus.IGNORED, parsed.auto_reply_reason
        return
    if _own_address(parsed.sender_address):
        inbound.status, inbound.reason = InboundMailStatus.IGNORED, "sent by the service desk"
        return
    uploads, skipped = _uploads(parsed)
    if skipped:
        inbound.reason = "Attachments not kept: " + "; ".join(skipped)
    body = parsed.body.strip() or EMPTY_MESSAGE
    earlier = (
        Ticket.objects.select_related("customer").filter(number=parsed.ticket_number).first()
        if parsed.ticket_number
        else None
    )
    if earlier is not None and earlier.status != TicketStatus.CLOSED:
        ticket_message_add(
            ticket=earlier,
            body=body,
            public=True,
            actor=None,
            now=now,
            attachments=uploads,
            from_customer=True,
            author_label=parsed.sender_label,
        )
        inbound.status, inbound.ticket = InboundMailStatus.THREADED, earlier
        return
    subject = parsed.subject.strip()
    customer = customer_for_sender(parsed.sender_address)
    if earlier is not None:
        # A closed ticket cannot take messages; the answer starts a new one
        # that points back, for the same customer when the sender is the one
        # the closed ticket was answered at.
        body = f"Follow-up of {earlier.number}\n\n{body}"
        subject = _without_number(subject)
        if customer is None and earlier.reply_to.lower() == parsed.sender_address.lower():
            customer = earlier.customer
    ticket = ticket_create(
        customer=customer,
        subject=(subject or NO_SUBJECT)[:200],
        message=body,
        type=TicketType.INCIDENT,
        channel=Channel.EMAIL,
        actor=None,
        now=now,
        attachments=uploads,
        reply_to=parsed.sender_address[:254],
        author_label=parsed.sender_label,
    )
    inbound.status, inbound.ticket = InboundMailStatus.CREATED, ticket


def _seen(message_id: str) -> InboundMail | None:
    return InboundMail.objects.select_related("ticket").filter(message_id=message_id).first()


def _quarantine(
    *, message_id: str, raw: bytes, now: datetime, reason: str, sender: str = "", subject: str = ""
) -> InboundMail:
    try:
        with transaction.atomic():
            return InboundMail.objects.create(
                message_id=message_id,
                received_at=now,
                sender=_printable(sender)[:320],
                subject=_printable(subject)[:500],
                status=InboundMailStatus.QUARANTINED,
                reason=_printable(reason),
                raw=raw,
            )
    except IntegrityError:
        return InboundMail.objects.get(message_id=message_id)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return f"{type(error).__name__}: {error}"


def mail_ingest(*, raw: bytes, now: datetime) -> InboundMail:
    """Read one raw mail, once. A Message-ID seen before returns its earlier
    row and does nothing. Whatever goes wrong ends as a quarantined row that
    keeps the raw bytes; a ticket is made completely or not at all."""
    try:
        parsed = parse_mail(raw)
    except Exception as error:  # anything the parser cannot make sense of is kept aside
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@servicedesk.local>"
        return _quarantine(message_id=message_id, raw=raw, now=now, reason=_reason(error))
    seen = _seen(parsed.message_id)
    if seen is not None:
        return seen
    try:
        with transaction.atomic():
            # The row comes first: a second reader of the same message blocks
            # on (or fails at) the unique Message-ID before making a ticket.
            inbound = InboundMail.objects.create(
                message_id=parsed.message_id,
                received_at=now,
                sender=parsed.sender_address[:320],
                subject=parsed.subject[:500],
                status=InboundMailStatus.QUARANTINED,
            )
            _route(inbound, parsed, now)
            inbound.save(update_fields=["status", "reason", "ticket"])
            return inbound
    except IntegrityError as error:
        # Another reader committed this Message-ID between our look and our
        # insert; its row is the answer and our work is rolled back.
        seen = InboundMail.objects.filter(message_id=parsed.message_id).first()
        if seen is not None:
            return seen
        failure: Exception = error
    except Exception as error:  # one bad mail must not stop a mailbox run; raw bytes are kept
        logger.warning("mail %s quarantined", parsed.message_id, exc_info=True)
        failure = error
    return _quarantine(
        message_id=parsed.message_id,
        raw=raw,
        now=now,
        reason=_reason(failure),
        sender=parsed.sender_address,
        subject=parsed.subject,
    )
