"""The e-invoicing fields in the documents of a sent invoice: the PDF's text (payment reference,
reverse-charge and export mentions, the reform's mentions, BT-111), the Factur-X XML (valid
against the Factur-X XSD with categories AE, G, Z and E, BT-83, BT-6/BT-111, BG-15) and the
public page's payment reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import facturx
import pytest
from litestar.testing import AsyncTestClient
from lxml import etree

from fastfaktura.adapters.pdf.cii import NSMAP
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.documents.support import get_pdf, invoice_for, pages_text, seller_account, send
from tests.invoicing_support import BUSINESS

LINES: list[dict[str, Any]] = [
    {"description": "Conseil", "quantity": 1, "unit_price_cents": 102880, "tax_rate": 20},
    {"description": "Pièces", "quantity": 2, "unit_price_cents": 25000, "tax_rate": 0},
]
# (client's locale, client's details, the 0 % line's category, its mention on the PDF)
CASES = [
    ("fr", {"country": "DE", "vat_number": "DE136695976"}, "AE", "Autoliquidation"),
    ("en", {"country": "BE", "vat_number": "BE0403170701"}, "AE", "Reverse charge"),
    ("nb", {"country": "US"}, "G", "Eksport utenfor EU"),
    ("sv", {"country": "FR"}, "Z", None),
]


def _xml(pdf: bytes) -> etree._Element:
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return etree.fromstring(xml)


def _texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.xpath(path, namespaces=NSMAP)]


@pytest.mark.parametrize(("locale", "buyer", "category", "mention"), CASES)
async def test_each_category_reaches_the_pdf_and_a_valid_factur_x(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    locale: str,
    buyer: dict[str, Any],
    category: str,
    mention: str | None,
) -> None:
    account = seller_account(new_account, f"Atelier {category} {locale}")
    invoice = await invoice_for(client, account, locale=locale, client_fields=buyer, lines=LINES)
    send(invoicing, database_url, account, invoice)
    pdf = await get_pdf(client, account, invoice["id"])
    text = " ".join(pages_text(pdf))
    assert invoice["payment_reference"] in text
    if mention:
        assert mention in text
    assert "Autoliquidation" not in text or category == "AE"

    root = _xml(pdf)
    settlement = "//ram:ApplicableHeaderTradeSettlement"
    assert _texts(root, f"{settlement}/ram:PaymentReference") == [invoice["payment_reference"]]
    assert _texts(root, "//ram:SpecifiedLineTradeSettlement//ram:CategoryCode") == ["S", category]
    assert _texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "S",
        category,
    ]
    codes = _texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:ExemptionReasonCode")
    assert codes == ([] if category == "Z" else [f"VATEX-EU-{category}"])
    # France's reform: the operation category as the business process (BT-23), services.
    assert _texts(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["S1"]


async def test_bt_111_delivery_address_vat_on_debits_and_exemption_in_the_documents(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account, "Atelier Export")
    response = await client.put(BUSINESS, headers=account.headers, json={"vat_on_debits": True})
    assert response.status_code == 200, response.text
    lines = [
        dict(LINES[0]),
        {**LINES[1], "vat_category": "E", "vat_exemption_reason": "Exonération, art. 261 CGI"},
    ]
    invoice = await invoice_for(
        client,
        account,
        locale="fr",
        client_fields={"country": "FR", "company_id": "732829320"},
        lines=lines,
        currency="NOK",
        tax_exchange_rate="0.085",
        delivery_address="Entrepôt 3\n12 rue des Docks\n13002 Marseille",
        operation_category="mixed",
    )
    assert invoice["tax_cents_accounting"] == 1749  # 205.76 NOK x 0.085 = 17.4896 EUR
    send(invoicing, database_url, account, invoice)
    pdf = await get_pdf(client, account, invoice["id"])
    text = " ".join(pages_text(pdf))
    for expected in (
        "Option pour le paiement de la taxe d'après les débits",
        "Exonération, art. 261 CGI",
        "Adresse de livraison",
        "12 rue des Docks",
        "Livraison de biens et prestation de services",
        "TVA en EUR",
        "17,49",
    ):
        assert expected in text, expected

    root = _xml(pdf)
    settlement = "//ram:ApplicableHeaderTradeSettlement"
    assert _texts(root, f"{settlement}/ram:TaxCurrencyCode") == ["EUR"]
    totals = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount"
    assert [
        (node.get("currencyID"), node.text) for node in root.xpath(totals, namespaces=NSMAP)
    ] == [("NOK", "205.76"), ("EUR", "17.49")]
    assert _texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:CategoryCode") == ["S", "E"]
    assert _texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:ExemptionReason") == [
        "Exonération, art. 261 CGI"
    ]
    assert _texts(root, f"{settlement}/ram:ApplicableTradeTax/ram:DueDateTypeCode") == ["5", "5"]
    ship_to = "//ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty/ram:PostalTradeAddress"
    assert _texts(root, f"{ship_to}/ram:LineTwo") == ["12 rue des Docks"]
    assert _texts(root, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["M1"]

    page = await client.get(invoice["public_url"])
    assert page.status_code == 200
    assert f'id="payment-reference">{invoice["payment_reference"]}<' in page.text
