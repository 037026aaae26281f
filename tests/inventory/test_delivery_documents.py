"""The environment document (HTML and PDF) and the confirmation letter are
generated from Network data and never contain a stored secret."""

from __future__ import annotations

import re
import zlib

from django.utils import timezone

from inventory.delivery_documents import (
    confirmation_letter,
    document_html,
    document_pdf,
    pdf_text,
)
from inventory.models import Secret
from tests.base import Personas
from tests.inventory.delivery_setup import SERVER_PASSWORD, accepted, at, request, to_customer_test

NETWORK_FACTS = [
    "1000 Hoogendijk Logistiek",
    "kees@hoogendijk.example",
    "vps21.hoogendijk.example",
    "VMware VM, 4 vCPU",
    "Amsterdam",
    "B3",
    "Debian 12",
    "203.0.113.21",
    "nginx",
    "1.26.2",
    "PostgreSQL 17",
    "nftables",
    "web-cluster-2",
]


def pdf_content(data: bytes) -> str:
    """The text drawn on the PDF's pages (its content streams, inflated)."""
    text = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            text.append(stream.decode("latin-1"))
    return "\n".join(text)


def with_redundancy(delivery: object) -> None:
    from inventory.item_services import item_update

    item_update(item=delivery.item, actor=None, now=at(9), redundancy_group="web-cluster-2")  # type: ignore[attr-defined]


def test_the_html_document_shows_the_network_data_and_who_did_what(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    with_redundancy(delivery)
    html = document_html(delivery, now=at(10), back_url="/back/", pdf_url="/doc.pdf")
    for fact in NETWORK_FACTS:
        assert fact in html, fact
    assert str(delivery.number) in html
    assert "VPS created" in html and "customer account created" in html
    assert "Sr ·" in html  # who did the steps
    assert 'href="/doc.pdf"' in html and 'href="/back/"' in html
    assert "<script" not in html and "style=" not in html  # the strict CSP holds


def test_the_pdf_carries_the_same_data(personas: Personas) -> None:
    delivery = to_customer_test(personas)
    with_redundancy(delivery)
    data = document_pdf(delivery, now=at(10))
    assert data.startswith(b"%PDF")
    content = pdf_content(data)
    for fact in NETWORK_FACTS:
        assert fact in content, fact
    assert str(delivery.number) in content


def test_characters_outside_latin_1_do_not_break_the_pdf(personas: Personas) -> None:
    personas.customer.name = "Zeeland Zorggroep — café"
    personas.customer.save()
    delivery = request(personas, contacts="Łukasz Nowak <lukasz@zorg.example> → 24/7 “on call”")
    data = document_pdf(delivery, now=timezone.now())
    assert data.startswith(b"%PDF")
    content = pdf_content(data)
    assert "Zeeland Zorggroep - caf\xe9" in content
    assert "?ukasz Nowak" in content and '-> 24/7 "on call"' in content
    assert pdf_text("Zeeland Zorggroep — café") == "Zeeland Zorggroep - café"
    assert pdf_text("Őrség 東京") == "Orség ??"  # ő has no Latin-1 glyph, é has


def test_no_document_contains_a_stored_secret(personas: Personas) -> None:
    delivery = accepted(personas)
    assert Secret.objects.filter(item=delivery.item).exists()
    # Even a secret stored without the secret services, ciphertext and all.
    Secret.objects.create(
        item=delivery.item,  # type: ignore[misc]
        label="ilo admin",
        ciphertext=b"ILO-PLAINTEXT-LOOKING-CIPHER",
        updated_at=at(9),
    )
    html = document_html(delivery, now=at(30))
    pdf = pdf_content(document_pdf(delivery, now=at(30)))
    letter = confirmation_letter(delivery)
    for text in (html, pdf, letter):
        assert SERVER_PASSWORD not in text
        assert "ILO-PLAINTEXT-LOOKING-CIPHER" not in text
        assert "ilo admin" not in text and "server password" not in text


def test_the_letter_is_generated_from_the_delivery_and_the_machine(personas: Personas) -> None:
    delivery = accepted(personas)
    letter = confirmation_letter(delivery)
    assert letter.startswith("Dear Hoogendijk Logistiek,")
    for fact in (
        str(delivery.number),
        "virtual server (VMware)",
        "vps21.hoogendijk.example (Amsterdam",
        "203.0.113.21",
        "Debian 12",
        "nginx",
        "PostgreSQL 17",
        "nftables",
        "Sr",
    ):
        assert fact in letter, fact
    assert "we never send passwords by mail" in letter
    assert "&" not in letter  # plain text, not HTML-escaped
