"""Business legal settings, end to end: profile -> frozen into the invoice -> PDF and Factur-X."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import facturx
from litestar.testing import AsyncTestClient
from lxml import etree

from fastfaktura.application import Invoicing
from tests.conftest import Account, StoreProbe
from tests.documents.support import get_pdf, invoice_for, pages_text, send
from tests.helpers import assert_rejected

BUSINESS = "/api/v1/business"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


async def test_legal_settings_are_checked_and_read_back(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    changes = {"vat_exempt_293b": True, "late_payment_rate": 12.5, "f_skatt": True}
    response = await client.put(BUSINESS, headers=account.headers, json=changes)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in changes} == changes
    fetched = (await client.get(BUSINESS, headers=account.headers)).json()
    assert {k: fetched[k] for k in changes} == changes
    cleared = await client.put(BUSINESS, headers=account.headers, json={"late_payment_rate": None})
    assert cleared.json()["late_payment_rate"] is None
    await assert_rejected(
        client,
        store,
        "PUT",
        BUSINESS,
        headers=account.headers,
        json={"vat_exempt_293b": "yes", "late_payment_rate": 1.234, "f_skatt": None},
        status=422,
        fields=["vat_exempt_293b", "late_payment_rate", "f_skatt"],
    )


async def test_a_french_franchise_invoice_states_293_b_and_is_category_e_in_factur_x(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    seller = new_account("Atelier Solo", country="FR", currency="EUR")
    await client.put(
        BUSINESS, headers=seller.headers, json={"vat_exempt_293b": True, "late_payment_rate": 15}
    )
    line = {"description": "Atelier", "quantity": 1, "unit_price_cents": 50000, "tax_rate": 0}
    invoice = await invoice_for(client, seller, locale="fr", lines=[line])
    assert invoice["seller"]["vat_exempt_293b"] is True  # frozen at creation
    send(invoicing, database_url, seller, invoice)
    pdf = await get_pdf(client, seller, invoice["id"])
    text = " ".join(pages_text(pdf))
    assert "TVA non applicable, art. 293 B du CGI" in text
    assert "15\u00a0%" in text
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    header = tree.find(f".//{{{RAM}}}ApplicableHeaderTradeSettlement/{{{RAM}}}ApplicableTradeTax")
    assert header is not None
    assert header.findtext(f"{{{RAM}}}CategoryCode") == "E"
    assert header.findtext(f"{{{RAM}}}ExemptionReasonCode") == "VATEX-FR-FRANCHISE"
    assert header.findtext(f"{{{RAM}}}ExemptionReason") == "TVA non applicable, art. 293 B du CGI"
