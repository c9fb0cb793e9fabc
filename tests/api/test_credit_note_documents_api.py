"""GET /api/v1/credit_notes/{id}/pdf and /xml through the whole app, on the real PostgreSQL:
the Factur-X PDF (type 381) read back in two locales, its XML valid against the Factur-X XSD
and the very bytes embedded in the PDF, both stored once and served byte for byte, another
business's credit note 404, and the query rules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import facturx
import psycopg
import pytest
from litestar.testing import AsyncTestClient
from lxml import etree

from fastfaktura.adapters.pdf.cii import NSMAP
from fastfaktura.application import Invoicing
from tests.api.test_credit_notes import (
    CREDIT_NOTES,
    NET_1000,
    credit,
    credit_line,
    pay,
    sent_invoice,
)
from tests.conftest import Account
from tests.documents.support import pages_text
from tests.helpers import assert_problem
from tests.invoicing_support import invoice_for

# The title, and the sentence naming the credited invoice, as each locale's client reads them.
WORDS = {
    "fr": ("Avoir", "Avoir relatif à la facture {number}"),
    "sv": ("Kreditfaktura", "Kreditfaktura avseende faktura {number}"),
}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


async def issued_note(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    locale: str = "en",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A sent invoice of 1,200.00 for a client in `locale`, and its full credit note."""
    if locale == "en":
        invoice = await sent_invoice(client, account, invoicing, database_url)
    else:
        invoice = await invoice_for(
            client, account, invoicing, database_url, locale=locale, lines=[dict(NET_1000)]
        )
    note = await credit(client, account, invoice["id"], reason="Two days billed twice")
    return invoice, note


def stored_rows(database_url: str, note_id: str) -> int:
    """The credit note's stored PDFs: issued with it (issued_documents), or, for a credit note
    issued before, rendered on the first request (credit_note_documents)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM credit_note_documents WHERE credit_note_id = %s)"
            " + (SELECT count(*) FROM issued_documents WHERE document_id = %s AND kind = 'pdf')",
            (note_id, note_id),
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("locale", sorted(WORDS))
async def test_the_pdf_is_the_credit_note_in_the_clients_locale_stored_once(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    locale: str,
) -> None:
    invoice, note = await issued_note(client, account, invoicing, database_url, locale)
    url = f"{CREDIT_NOTES}/{note['id']}/pdf"
    first = await client.get(url, headers=account.headers)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["content-disposition"] == f'inline; filename="{note["number"]}.pdf"'
    text = flat(" ".join(pages_text(first.content)))
    title, refers_to = WORDS[locale]
    assert text.startswith(f"{title} "), text[:80]
    assert refers_to.format(number=invoice["number"]) in text
    assert note["number"] in text
    assert "Two days billed twice" in text
    # Factur-X: the embedded XML is a credit note (381) naming the invoice (BT-25).
    _, xml = facturx.get_facturx_xml_from_pdf(first.content, check_xsd=True)
    root = etree.fromstring(xml)
    assert root.xpath("//rsm:ExchangedDocument/ram:TypeCode/text()", namespaces=NSMAP) == ["381"]
    assert root.xpath(
        "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()", namespaces=NSMAP
    ) == [invoice["number"]]
    # Stored once, then the same bytes on every request.
    again = await client.get(url, headers=account.headers)
    assert again.status_code == 200
    assert again.content == first.content
    assert stored_rows(database_url, note["id"]) == 1


async def test_the_xml_is_the_embedded_cii_valid_and_byte_identical(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice, note = await issued_note(client, account, invoicing, database_url)
    url = f"{CREDIT_NOTES}/{note['id']}/xml"
    response = await client.get(url, params={"format": "cii"}, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    xml = response.content
    assert response.headers["etag"] == f'"{hashlib.sha256(xml).hexdigest()}"'
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = etree.fromstring(xml)
    assert root.xpath("//rsm:ExchangedDocument/ram:TypeCode/text()", namespaces=NSMAP) == ["381"]
    assert root.xpath("//rsm:ExchangedDocument/ram:ID/text()", namespaces=NSMAP) == [note["number"]]
    assert root.xpath(
        "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()", namespaces=NSMAP
    ) == [invoice["number"]]
    again = await client.get(url, params={"format": "cii"}, headers=account.headers)
    assert again.content == xml
    pdf = (await client.get(f"{CREDIT_NOTES}/{note['id']}/pdf", headers=account.headers)).content
    assert facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)[1] == xml


async def test_the_documents_state_the_refund_due_as_issued_even_after_a_refund(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await sent_invoice(client, account, invoicing, database_url)
    await pay(client, account, invoice["id"], 120000)
    note = await credit(client, account, invoice["id"], lines=[credit_line(10000)])
    assert note["refund_due_cents"] == 12000
    refund = await client.post(
        f"{CREDIT_NOTES}/{note['id']}/refunds",
        headers=account.headers,
        json={"amount_cents": 5000, "method": "bank_transfer"},
    )
    assert refund.status_code == 201, refund.text
    response = await client.get(
        f"{CREDIT_NOTES}/{note['id']}/xml", params={"format": "cii"}, headers=account.headers
    )
    root = etree.fromstring(response.content)
    assert root.xpath(
        "//ram:SpecifiedTradePaymentTerms/ram:Description/text()", namespaces=NSMAP
    ) == ["Refund due: 120.00 EUR"]


async def test_formats_and_query_parameters_are_checked(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    _, note = await issued_note(client, account, invoicing, database_url)
    base = f"{CREDIT_NOTES}/{note['id']}"
    # API.md (issue 14): `ubl` is the default and is served (tests/api/test_invoice_xml_api.py).
    for params, message in (({"format": "pdf"}, "must be one of"),):
        problem = assert_problem(
            await client.get(f"{base}/xml", params=params, headers=account.headers), 422
        )
        assert [e["field"] for e in problem["errors"]] == ["format"]
        assert message in problem["errors"][0]["message"]
    problem = assert_problem(
        await client.get(f"{base}/pdf", params={"locale": "fr"}, headers=account.headers), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["locale"]
    problem = assert_problem(
        await client.get(
            f"{base}/xml", params={"format": "cii", "fromat": "x"}, headers=account.headers
        ),
        422,
    )
    assert [e["field"] for e in problem["errors"]] == ["fromat"]
    # Nothing was rendered or stored for a refused request (the PDF is stored at issue).
    assert stored_rows(database_url, note["id"]) == 1


async def test_another_business_and_unknown_ids_answer_404(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    _, note = await issued_note(client, account, invoicing, database_url)
    other = new_account("Other business")
    for path in ("pdf", "xml?format=cii"):
        assert_problem(
            await client.get(f"{CREDIT_NOTES}/{note['id']}/{path}", headers=other.headers), 404
        )
        assert_problem(
            await client.get(f"{CREDIT_NOTES}/{uuid4()}/{path}", headers=account.headers),
            404,
        )
        assert_problem(
            await client.get(f"{CREDIT_NOTES}/nope/{path}", headers=account.headers), 404
        )
    assert stored_rows(database_url, note["id"]) == 1  # stored at issue, nothing since
