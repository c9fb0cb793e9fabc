"""The e-invoice XML of an issued invoice or credit note, produced when it is asked for.

Pure and deterministic: the same issued document gives the same bytes every time (an issued
invoice's document does not depend on later payments, document.py), so the CII given here is
byte for byte the one embedded in the invoice's Factur-X PDF. Storing the XML at issue and
serving it from the database replaces these functions' use, not their output.
"""

from __future__ import annotations

from typing import Final, Literal

from fastfaktura.adapters.einvoice.ubl import ubl_credit_note, ubl_invoice
from fastfaktura.adapters.pdf.cii import build_cii
from fastfaktura.adapters.pdf.credit_note import build_credit_note_document
from fastfaktura.adapters.pdf.document import build_document
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from fastfaktura.readmodels.invoice_view import InvoiceResponse

XmlFormat = Literal["ubl", "cii"]
# `?format=` of GET .../xml, the default first (API.md "E-invoices and legal checks").
XML_FORMATS: Final[tuple[XmlFormat, ...]] = ("ubl", "cii")


def invoice_xml(invoice: InvoiceResponse, xml_format: XmlFormat) -> bytes:
    """The XML of `invoice` as issued (the caller has checked that it was sent)."""
    document = build_document(invoice, issued=True)
    return ubl_invoice(document) if xml_format == "ubl" else build_cii(document)


def credit_note_ubl(note: CreditNoteResponse) -> bytes:
    """The UBL `CreditNote` of `note` as issued (its CII is stored with its PDF)."""
    return ubl_credit_note(build_credit_note_document(note))
