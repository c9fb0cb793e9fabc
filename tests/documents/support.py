"""Helpers for the invoice PDF tests: accounts with a full legal profile, sent invoices, text."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pypdf
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.helpers import settle
from tests.invoicing_support import INVOICES, create_client, create_invoice

SELLER: dict[str, Any] = {
    "legal_name": "Atelier Nord SAS",
    "address": "12 rue des Lilas\n75011 Paris",
    "country": "FR",
    "vat_number": "FR40303265045",
    "company_id": "303265045",
    "iban": "FR7630006000011234567890189",
    "bic": "AGRIFRPP",
    "email": "factures@atelier-nord.fr",
}
# 1 x 1,028.80 at 20 %: net 1,028.80, VAT 205.76, total 1,234.56.
LINE: dict[str, Any] = {
    "description": "Conseil",
    "quantity": 1,
    "unit_price_cents": 102880,
    "tax_rate": 20,
}


def seller_account(new_account: Callable[..., Account], name: str = "Atelier Nord") -> Account:
    return new_account(name, **SELLER)


async def invoice_for(
    client: AsyncTestClient[Any],
    account: Account,
    *,
    locale: str = "en",
    client_name: str = "Kunde AS",
    client_fields: dict[str, Any] | None = None,
    **invoice: Any,
) -> dict[str, Any]:
    buyer = await create_client(
        client, account, client_name, locale=locale, **(client_fields or {"country": "NO"})
    )
    invoice.setdefault("lines", [dict(LINE)])
    return await create_invoice(client, account, buyer["id"], **invoice)


def send(
    invoicing: Invoicing, database_url: str, account: Account, invoice: dict[str, Any]
) -> None:
    invoicing.send_invoice(account.business_id, UUID(invoice["id"]), ["link"])
    settle(database_url)


async def get_pdf(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> bytes:
    response = await client.get(f"{INVOICES}/{invoice_id}/pdf", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def attachments(pdf: bytes) -> list[str]:
    """The names of the files embedded in the PDF (factur-x.xml for an issued invoice)."""
    return list(pypdf.PdfReader(io.BytesIO(pdf)).attachments)
