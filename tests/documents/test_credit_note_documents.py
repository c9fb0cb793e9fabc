"""Credit note documents (issue 13), adapter level: the PDF in the four locales (read back by
text extraction), its embedded Factur-X XML (type 381, the preceding invoice as BT-25 and
BT-26, valid against the Factur-X XSD), the same rendering through the PDF pool, and the
public page in two locales. Real WeasyPrint, real factur-x; no credit note API yet."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any
from uuid import UUID, uuid4

import facturx
import msgspec
import pypdf
import pytest
from litestar.testing import AsyncTestClient
from lxml import etree

from fastfaktura.adapters.pdf.cii import NSMAP
from fastfaktura.adapters.pdf.credit_note import build_credit_note_document, credit_note_cii
from fastfaktura.adapters.pdf.pool import InlinePdfRenderer
from fastfaktura.adapters.pdf.render import render_job
from fastfaktura.adapters.web.credit_note_page import render_credit_note
from fastfaktura.adapters.web.labels import CREDIT_NOTE_LABELS, LABELS
from fastfaktura.api.services import services
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from tests.documents.support import SELLER, pages_text

REASON = "Deux jours facturés en trop / two days billed twice"
# Credited: 2.5 days of 100.00 at 20 % and a book of 20.00 at 5.5 %: net 270.00, VAT 51.10.
LINES: list[dict[str, Any]] = [
    {"description": "Conseil", "quantity": 2.5, "unit_price_cents": 10000, "tax_rate": 20},
    {"description": "Livre", "quantity": 1, "unit_price_cents": 2000, "tax_rate": 5.5},
]
NETS = [25000, 2000]
BREAKDOWN = [
    {"rate": 20, "base_cents": 25000, "tax_cents": 5000},
    {"rate": 5.5, "base_cents": 2000, "tax_cents": 110},
]
# Per locale: the title, the sentence referring to invoice F2026-00007 of 2026-11-24, and the
# total credited as the client reads it.
GOLDEN = {
    "fr": (
        "Avoir",
        "Avoir relatif à la facture F2026-00007 du 24 novembre 2026",
        "Total de l'avoir TTC 321,10 €",
    ),
    "en": (
        "Credit note",
        "Credit note for invoice F2026-00007 of November 24, 2026",
        "Total credited €321.10",
    ),
    "nb": (
        "Kreditnota",
        "Kreditnota for faktura F2026-00007 datert 24. november 2026",
        "Totalt kreditert 321,10 €",
    ),
    "sv": (
        "Kreditfaktura",
        "Kreditfaktura avseende faktura F2026-00007 daterad 24 november 2026",
        "Totalt krediterat 321,10 €",
    ),
}


def credit_note(locale: str = "fr", **fields: Any) -> CreditNoteResponse:
    seller = {**SELLER, "name": "Atelier Nord", "phone": None}
    buyer = {
        "id": str(uuid4()),
        "name": "Kunde AS",
        "email": None,
        "phone": None,
        "address": "Storgata 1\n0155 Oslo",
        "country": "NO",
        "vat_number": "NO999999999MVA",
        "company_id": None,
        "locale": locale,
    }
    data: dict[str, Any] = {
        "id": str(uuid4()),
        "number": "A2026-00003",
        "invoice_id": str(uuid4()),
        "invoice_number": "F2026-00007",
        "invoice_issue_date": "2026-11-24",
        "client_id": buyer["id"],
        "currency": "EUR",
        "issue_date": "2026-12-05",
        "reason": REASON,
        "lines": [{**line, "net_cents": net} for line, net in zip(LINES, NETS, strict=True)],
        "tax_breakdown": BREAKDOWN,
        "subtotal_cents": 27000,
        "tax_cents": 5110,
        "total_cents": 32110,
        "refund_due_cents": 0,
        "seller": seller,
        "buyer": buyer,
        "public_url": "https://pay.example/c/Q_wBB2f4ncb5HoRIRPB5StypxDxGCXng",
        "created_at": "2026-12-05T10:00:00Z",
        **fields,
    }
    if data["invoice_issue_date"] is msgspec.UNSET:
        del data["invoice_issue_date"]  # as the struct allows: the date is not known
    return msgspec.convert(data, CreditNoteResponse)


def flat(text: str) -> str:
    """Extracted text with every run of spaces (no-break ones too) and line ends as one space."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def embedded_xml(pdf: bytes) -> etree._Element:
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.xpath(path, namespaces=NSMAP)]


@pytest.mark.parametrize("locale", sorted(GOLDEN))
def test_the_pdf_names_the_credit_note_its_invoice_reason_and_totals_in_each_locale(
    locale: str,
) -> None:
    title, refers_to, total = GOLDEN[locale]
    pdf = render_job(credit_note(locale), True).content
    text = flat(" ".join(pages_text(pdf)))
    assert text.startswith(f"{title} "), text[:80]
    assert refers_to in text
    assert REASON in text
    assert total in text
    assert "A2026-00003" in text
    words = {**LABELS[locale], **CREDIT_NOTE_LABELS[locale]}
    assert words["original_invoice"] in text
    assert flat(words["deducted_from"].format(number="F2026-00007")) in text
    # No payment is asked for: no amount due, no bank details, no refund when none is due.
    for absent in ("amount_due", "payment_details", "due_date"):
        assert f"{LABELS[locale][absent]} " not in text.replace(title, ""), absent
    assert words["refund_due"] not in text
    assert SELLER["iban"] not in text.replace(" ", "")
    # The document is a Factur-X credit note.
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.subject == "Credit note A2026-00003 dated 2026-12-05"


def test_a_refund_due_is_shown_and_stated_in_the_payment_terms() -> None:
    note = credit_note("en", refund_due_cents=12000)
    pdf = render_job(note, True).content
    text = flat(" ".join(pages_text(pdf)))
    assert "Refund due €120.00" in text
    assert "deducted from invoice" not in text
    root = embedded_xml(pdf)
    assert texts(root, "//ram:SpecifiedTradePaymentTerms/ram:Description") == [
        "Refund due: 120.00 EUR"
    ]
    page = render_credit_note(note)
    assert re.search(r'id="refund-due">€120.00<', page)


def test_the_embedded_xml_is_a_381_referring_to_the_invoice_and_valid() -> None:
    note = credit_note("nb")
    pdf = render_job(note, True).content
    root = embedded_xml(pdf)
    settlement = "//ram:ApplicableHeaderTradeSettlement"
    totals = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert texts(root, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert texts(root, "//rsm:ExchangedDocument/ram:ID") == ["A2026-00003"]
    assert texts(root, "//ram:IssueDateTime/udt:DateTimeString") == ["20261205"]
    reference = f"{settlement}/ram:InvoiceReferencedDocument"
    assert texts(root, f"{reference}/ram:IssuerAssignedID") == ["F2026-00007"]  # BT-25
    assert texts(root, f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString") == [
        "20261124"  # BT-26
    ]
    assert root.xpath(
        f"{reference}/ram:FormattedIssueDateTime/qdt:DateTimeString/@format", namespaces=NSMAP
    ) == ["102"]
    assert texts(root, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content") == [REASON]
    assert texts(root, f"{totals}/ram:GrandTotalAmount") == ["321.10"]
    assert texts(root, f"{totals}/ram:TaxTotalAmount") == ["51.10"]
    assert texts(root, f"{totals}/ram:DuePayableAmount") == ["321.10"]
    assert texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:BasisAmount") == [
        "250.00",
        "20.00",
    ]
    assert texts(root, "//ram:SpecifiedTradePaymentTerms/ram:Description") == [
        "Beløpet går til fradrag i faktura F2026-00007."
    ]
    # Nothing to pay: no due date, no bank account to pay into.
    assert texts(root, "//ram:DueDateDateTime/udt:DateTimeString") == []
    assert texts(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == []
    # The bare XML (for GET /credit_notes/{id}/xml?format=cii) is the embedded one.
    _, embedded = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert credit_note_cii(note) == embedded


def test_without_the_invoice_date_the_xml_names_the_invoice_alone_and_stays_valid() -> None:
    note = credit_note("en", invoice_issue_date=msgspec.UNSET)
    xml = credit_note_cii(note)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = etree.fromstring(xml)
    assert texts(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["F2026-00007"]
    assert texts(root, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime") == []
    doc = build_credit_note_document(note)
    assert doc.view.refers_to == "Credit note for invoice F2026-00007"


def test_legal_mentions_keep_what_concerns_a_credit_note() -> None:
    french = build_credit_note_document(credit_note("fr"))
    assert french.legal_mentions == ()  # late-payment penalties concern an invoice
    franchise_note = credit_note(
        "fr",
        seller={**msgspec.structs.asdict(credit_note().seller), "vat_exempt_293b": True},
        tax_breakdown=[{"rate": 0, "base_cents": 27000, "tax_cents": 0}],
        lines=[{**LINES[0], "tax_rate": 0, "net_cents": 25000}],
    )
    franchise = build_credit_note_document(franchise_note)
    assert franchise.legal_mentions == ("TVA non applicable, art. 293 B du CGI",)
    norwegian_seller = {
        **msgspec.structs.asdict(credit_note().seller),
        "country": "NO",
        "company_id": "999 999 999",
        "vat_number": "NO999999999MVA",
        "legal_name": "Atelier Nord AS",
    }
    norwegian = build_credit_note_document(credit_note("nb", seller=norwegian_seller))
    assert norwegian.legal_mentions == ("Org.nr. 999 999 999 MVA · Foretaksregisteret",)
    text = flat(
        " ".join(pages_text(render_job(credit_note("nb", seller=norwegian_seller), True).content))
    )
    assert "Org.nr. 999 999 999 MVA" in text


def test_every_locale_has_the_same_credit_note_words() -> None:
    keys = {locale: set(words) for locale, words in CREDIT_NOTE_LABELS.items()}
    assert set(keys) == set(LABELS)
    assert all(found == keys["en"] for found in keys.values())
    # They add to the page's words without replacing any.
    assert not keys["en"] & set(LABELS["en"])


async def test_the_pdf_pool_renders_a_credit_note_and_an_invoice_alike(
    client: AsyncTestClient[Any],
) -> None:
    """The app's pool (worker processes) takes a credit note as it takes an invoice."""
    note = credit_note("sv")
    pool = services(client.app.state).pdfs

    async def render() -> bytes:
        return (await pool.render(UUID(int=1), note, issued=True)).content

    pdf = await asyncio.to_thread(client.blocking_portal.call, render)
    text = flat(" ".join(pages_text(pdf)))
    assert GOLDEN["sv"][1] in text
    assert texts(embedded_xml(pdf), "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    inline = await InlinePdfRenderer().render(UUID(int=1), note, issued=True)
    assert flat(" ".join(pages_text(inline.content))) == text


@pytest.mark.parametrize(
    ("locale", "title", "download"),
    [("fr", "Avoir", "Télécharger l'avoir (PDF)"), ("sv", "Kreditfaktura", "Ladda ner")],
)
def test_the_public_page_of_a_credit_note(locale: str, title: str, download: str) -> None:
    note = credit_note(locale, reason="<script>alert(1)</script> & co")
    page = render_credit_note(note)
    assert f'<html lang="{locale}">' in page
    assert f"<h1>{title}</h1>" in page
    assert '<strong id="credit-note-number">A2026-00003</strong>' in page
    assert GOLDEN[locale][1] in page.replace("&#39;", "'")
    # User text is text: the reason is escaped, never markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "<script>" not in page
    assert re.search(r'id="total">321,10\s€<', page)
    assert f'href="Q_wBB2f4ncb5HoRIRPB5StypxDxGCXng/pdf" id="pdf-link" download>{download}' in (
        page.replace("&#39;", "'")
    )
    assert 'id="refund-due"' not in page
    assert "F2026-00007" in page
    placeholder = render_credit_note(note, pdf_url="/c/token/pdf")
    assert 'href="/c/token/pdf"' in placeholder
