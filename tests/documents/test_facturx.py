"""The Factur-X XML inside a sent invoice's PDF, read back and checked against the API's invoice.

Every locale and every currency the API accepts; the lines mix a standard rate, a reduced
rate, a zero rate (category G: the client is in Norway, outside the EU), a fractional quantity
and a discount line.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import facturx
import pytest
from litestar.testing import AsyncTestClient
from lxml import etree

from fastfaktura.adapters.pdf.cii import NSMAP
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.documents.support import SELLER, get_pdf, invoice_for, seller_account
from tests.helpers import settle

LINES: list[dict[str, Any]] = [
    {"description": "Conseil", "quantity": 2.5, "unit_price_cents": 4000, "tax_rate": 20},
    {"description": "Livre", "quantity": 3, "unit_price_cents": 1999, "tax_rate": 5.5},
    {"description": "Export", "quantity": 1, "unit_price_cents": 50000, "tax_rate": 0},
    {"description": "Remise", "quantity": 1, "unit_price_cents": -1000, "tax_rate": 20},
]
CASES = [
    (locale, currency)
    for locale in ("fr", "en", "nb", "sv")
    for currency in ("EUR", "USD", "GBP", "NOK", "SEK", "DKK")
]


def cents(value: str) -> int:
    return int(Decimal(value) * 100)


@pytest.fixture
async def account_and_invoices(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> tuple[Account, dict[tuple[str, str], dict[str, Any]]]:
    """One business, one sent invoice per (locale, currency): sent at once, settled once."""
    account = seller_account(new_account)
    invoices = {}
    for locale, currency in CASES:
        invoice = await invoice_for(
            client,
            account,
            locale=locale,
            client_name=f"Kunde {locale}-{currency} AS",
            client_fields={"country": "NO", "vat_number": "NO999999999MVA"},
            currency=currency,
            lines=LINES,
        )
        invoicing.send_invoice(account.business_id, UUID(invoice["id"]), ["link"])
        invoices[locale, currency] = invoice
    settle(database_url)
    return account, invoices


async def test_the_factur_x_xml_matches_the_invoice_in_every_locale_and_currency(
    client: AsyncTestClient[Any],
    account_and_invoices: tuple[Account, dict[tuple[str, str], dict[str, Any]]],
) -> None:
    account, invoices = account_and_invoices
    for (locale, currency), invoice in invoices.items():
        pdf = await get_pdf(client, account, invoice["id"])
        filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
        assert filename == "factur-x.xml"
        assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
        root = etree.fromstring(xml)

        def one(path: str, node: Any = root, case: tuple[str, str] = (locale, currency)) -> str:
            found = node.xpath(path, namespaces=NSMAP)
            assert len(found) == 1, (path, case)
            return str(found[0].text)

        settlement = "//ram:ApplicableHeaderTradeSettlement"
        totals = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
        assert one("//rsm:ExchangedDocument/ram:ID") == invoice["number"]
        assert one("//rsm:ExchangedDocument/ram:TypeCode") == "380"
        assert one("//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
            "urn:cen.eu:en16931:2017"
        )
        assert one("//ram:IssueDateTime/udt:DateTimeString") == invoice["issue_date"].replace(
            "-", ""
        )
        assert one("//ram:DueDateDateTime/udt:DateTimeString") == invoice["due_date"].replace(
            "-", ""
        )
        assert one(f"{settlement}/ram:InvoiceCurrencyCode") == currency
        assert cents(one(f"{totals}/ram:LineTotalAmount")) == invoice["subtotal_cents"]
        assert cents(one(f"{totals}/ram:TaxBasisTotalAmount")) == invoice["subtotal_cents"]
        tax_totals = {
            str(node.get("currencyID")): cents(str(node.text))
            for node in root.xpath(f"{totals}/ram:TaxTotalAmount", namespaces=NSMAP)
        }
        # In the invoice's currency; for another currency than the business's (EUR), also
        # in EUR: BT-111, from the invoice's tax_exchange_rate.
        expected = {currency: invoice["tax_cents"]}
        if currency != "EUR":
            expected["EUR"] = invoice["tax_cents_accounting"]
        assert tax_totals == expected
        assert cents(one(f"{totals}/ram:GrandTotalAmount")) == invoice["total_cents"]
        assert cents(one(f"{totals}/ram:DuePayableAmount")) == invoice["amount_due_cents"]
        breakdown = [
            {
                "rate": Decimal(str(one("ram:RateApplicablePercent", tax))),
                "base_cents": cents(one("ram:BasisAmount", tax)),
                "tax_cents": cents(one("ram:CalculatedAmount", tax)),
                "category": one("ram:CategoryCode", tax),
            }
            for tax in root.xpath(f"{settlement}/ram:ApplicableTradeTax", namespaces=NSMAP)
        ]
        assert breakdown == [
            {
                "rate": Decimal(str(item["rate"])),
                "base_cents": item["base_cents"],
                "tax_cents": item["tax_cents"],
                # API.md: a client outside the EU (Norway) makes the 0 % row an export (G).
                "category": "S" if item["rate"] > 0 else "G",
            }
            for item in invoice["tax_breakdown"]
        ]
        line_totals = [
            cents(node.text)
            for node in root.xpath(
                "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                namespaces=NSMAP,
            )
        ]
        assert line_totals == [line["net_cents"] for line in invoice["lines"]]
        seller, buyer = "//ram:SellerTradeParty", "//ram:BuyerTradeParty"
        assert one(f"{seller}/ram:Name") == SELLER["legal_name"]
        assert one(f"{seller}/ram:SpecifiedTaxRegistration/ram:ID") == SELLER["vat_number"]
        assert one(f"{seller}/ram:PostalTradeAddress/ram:CountryID") == "FR"
        assert one(f"{buyer}/ram:Name") == invoice["buyer"]["name"]
        assert one(f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID") == "NO999999999MVA"
        assert one(f"{buyer}/ram:PostalTradeAddress/ram:CountryID") == "NO"
        assert one("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == SELLER["iban"]
