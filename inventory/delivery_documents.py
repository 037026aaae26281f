"""The documents of a delivery, generated from Network data rather than
written by hand: the environment document (printable HTML and PDF) and the
confirmation letter.

Both read the delivery, its customer and machine (location, rack, OS, IP
addresses, installed software, redundancy group) and the checklist with who
did what when. Stored secrets are never read here: nothing in this module
touches ConfigurationItem.secrets, so no document can leak a password."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from inventory import delivery_checklist as checklist
from inventory.delivery_services import server_label, step_label
from inventory.models import ConfigurationItem, Delivery, DeliveryStep

EMPTY = "—"


@dataclass
class Section:
    key: str
    heading: str
    rows: list[tuple[str, str]] = field(default_factory=list)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return EMPTY
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _lead_time(delivery: Delivery) -> str:
    lead = delivery.lead_time
    if lead is None:
        return EMPTY
    days = lead.days
    hours = lead.seconds // 3600
    return _("%(days)d days, %(hours)d hours") % {"days": days, "hours": hours}


def _machine(delivery: Delivery) -> ConfigurationItem | None:
    if delivery.item_id is None:
        return None
    return (
        ConfigurationItem.objects.select_related("location")
        .prefetch_related("ip_addresses", "software")
        .get(pk=delivery.item_id)
    )


def _steps(delivery: Delivery) -> list[DeliveryStep]:
    order = {step: index for index, step in enumerate(checklist.ALL_STEPS)}
    steps = list(DeliveryStep.objects.filter(delivery=delivery).select_related("done_by"))
    return sorted(steps, key=lambda s: (order.get(s.step, 99), s.done_at))


def document_sections(delivery: Delivery) -> list[Section]:
    """The environment document's content, shared by the HTML and the PDF."""
    customer = delivery.customer
    item = _machine(delivery)
    sections = [
        Section(
            "customer",
            _("Customer"),
            [
                (_("Customer"), f"{customer.number} {customer.name}"),
                (_("Contacts"), delivery.contacts or EMPTY),
            ],
        ),
        Section(
            "delivery",
            _("Delivery"),
            [
                (_("Number"), delivery.number or EMPTY),
                (
                    _("Origin"),
                    delivery.get_origin_display()
                    + (f" ({delivery.order_reference})" if delivery.order_reference else ""),
                ),
                (_("Server"), server_label(delivery)),
                (_("Status"), delivery.get_status_display()),
                (_("Requested at"), _when(delivery.requested_at)),
                (_("Wanted on"), formats.date_format(delivery.wanted_on, "SHORT_DATE_FORMAT")),
                (_("Accepted at"), _when(delivery.accepted_at)),
                (_("Delivered at"), _when(delivery.delivered_at)),
                (_("Lead time"), _lead_time(delivery)),
                (_("Engineer"), delivery.engineer.display_name() if delivery.engineer else EMPTY),
            ],
        ),
    ]
    machine = Section("machine", _("Machine"))
    if item is None:
        machine.rows.append((_("Machine"), _("not registered yet")))
    else:
        machine.rows += [
            (_("Hostname"), item.hostname or EMPTY),
            (_("Serial number"), item.serial_number or EMPTY),
            (_("Machine type"), item.machine_type or EMPTY),
            (_("Kind"), item.get_kind_display()),
            (_("Location"), str(item.location) if item.location else EMPTY),
            (_("Rack"), item.rack or EMPTY),
            (
                _("Operating system"),
                " ".join(p for p in (item.os_name, item.os_version) if p) or EMPTY,
            ),
            (_("Redundancy group"), item.redundancy_group or EMPTY),
        ]
    sections.append(machine)
    network = Section("network", _("IP addresses"))
    for address in item.ip_addresses.all() if item else []:
        network.rows.append((address.address, _("private") if address.is_private else _("public")))
    if not network.rows:
        network.rows.append((_("IP addresses"), _("none registered")))
    sections.append(network)
    software = Section(
        "software",
        _("Software"),
        [
            (_("Operating system (ordered)"), delivery.os_name or EMPTY),
            (_("Webserver"), delivery.webserver or EMPTY),
            (_("Database"), delivery.database or EMPTY),
            (_("Firewall"), delivery.firewall or EMPTY),
        ],
    )
    for installed in item.software.all() if item else []:
        software.rows.append(
            (_("Installed: %(name)s") % {"name": installed.name}, installed.version)
        )
    sections.append(software)
    steps = Section("steps", _("Checklist"))
    for step in _steps(delivery):
        steps.rows.append(
            (step_label(step.step), f"{step.done_by.display_name()} · {_when(step.done_at)}")
        )
    if not steps.rows:
        steps.rows.append((_("Checklist"), _("no steps done yet")))
    sections.append(steps)
    return sections


def document_title(delivery: Delivery) -> str:
    return _("Environment document %(number)s: %(customer)s") % {
        "number": delivery.number,
        "customer": delivery.customer.name,
    }


def document_html(
    delivery: Delivery, *, now: datetime, back_url: str = "", pdf_url: str = ""
) -> str:
    """The printable HTML document (a page of its own, without navigation)."""
    context = {
        "title": document_title(delivery),
        "delivery": delivery,
        "sections": document_sections(delivery),
        "generated_at": now,
        "back_url": back_url,
        "pdf_url": pdf_url,
    }
    return render_to_string("inventory/deliveries/document.html", context)


# --- PDF ---------------------------------------------------------------------------

# Characters outside Latin-1 that have a readable Latin-1 spelling; the PDF's
# core font (Helvetica) has Latin-1 glyphs only.
PDF_REPLACEMENTS = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2012": "-",
    "\u2010": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2026": "...",
    "\u2022": "*",
    "\u00b7": "-",
    "\u2192": "->",
    "\u20ac": "EUR",
    "\u2122": "(TM)",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
}


def pdf_text(value: object) -> str:
    """`value` spelled in Latin-1 for the core font: known punctuation
    replaced, accents of other letters dropped (ő → o), anything else "?"."""
    out = []
    for char in str(value):
        char = PDF_REPLACEMENTS.get(char, char)
        try:
            char.encode("latin-1")
        except UnicodeEncodeError:
            bare = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            char = bare.encode("latin-1", "replace").decode("latin-1") or "?"
        out.append(char)
    return "".join(out)


def document_pdf(delivery: Delivery, *, now: datetime) -> bytes:
    """The environment document as a PDF (A4, Helvetica)."""
    from fpdf import FPDF

    title = document_title(delivery)
    pdf = FPDF(format="A4")
    pdf.set_title(pdf_text(title))
    pdf.set_creator("Servicedesk")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    generated = _("Generated from Network on %(when)s") % {"when": _when(now)}
    pdf.multi_cell(0, 5, pdf_text(generated), new_x="LMARGIN", new_y="NEXT")
    for section in document_sections(delivery):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, pdf_text(section.heading), new_x="LMARGIN", new_y="NEXT")
        for label, value in section.rows:
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(55, 5, pdf_text(label)[:40])
            pdf.set_font("Helvetica", "", 9)
            pdf.multi_cell(0, 5, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- The confirmation letter ---------------------------------------------------------


def _portal_url(name: str, *args: str) -> str:
    try:
        return settings.SITE_URL + reverse(f"portal:{name}", args=args)
    except NoReverseMatch:  # the portal pages are not mounted (yet)
        return settings.SITE_URL + "/portal/"


def letter_context(delivery: Delivery) -> dict[str, Any]:
    """Everything the letter says, JSON-safe (it travels in the mail's
    notification row and is rendered in the recipient's language)."""
    item = _machine(delivery)
    return {
        "number": delivery.number or "",
        "customer": delivery.customer.name,
        "customer_number": delivery.customer.number,
        "server": server_label(delivery),
        "os": delivery.os_name,
        "webserver": delivery.webserver,
        "database": delivery.database,
        "firewall": delivery.firewall,
        "hostname": item.reference if item else "",
        "location": str(item.location) if item and item.location else "",
        "ip_addresses": [a.address for a in item.ip_addresses.all()] if item else [],
        "accepted_on": (
            formats.date_format(timezone.localtime(delivery.accepted_at), "SHORT_DATE_FORMAT")
            if delivery.accepted_at
            else ""
        ),
        "engineer": delivery.engineer.display_name() if delivery.engineer else "",
        "document_url": _portal_url("delivery-document", delivery.number or ""),
        "portal_url": _portal_url("delivery-detail", delivery.number or ""),
    }


def confirmation_letter(delivery: Delivery) -> str:
    """The letter's text, as the mail to the contacts carries it."""
    return render_to_string(
        "inventory/deliveries/confirmation_letter.txt", letter_context(delivery)
    ).strip()
