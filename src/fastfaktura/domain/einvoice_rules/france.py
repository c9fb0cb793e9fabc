"""The French reform's rules (BR-FR-*, CTC schematron of the DGFiP) and the mentions of
decree 2022-1299, for a French seller; the VAT in the accounting currency (BT-111) for all."""

from __future__ import annotations

import re
from typing import Final

from fastfaktura.domain.einvoice_rules.facts import is_french_b2b
from fastfaktura.domain.einvoice_rules.identifiers import siren_of
from fastfaktura.domain.einvoice_rules.model import Document
from fastfaktura.domain.einvoice_rules.registry import Broken, rule

FR = "France (reform)"
_ID_CHARS: Final = re.compile(r"^[A-Za-z0-9+\-_/]+$")


def _numbers(doc: Document) -> list[tuple[str, str]]:
    found = [("number", doc.number)]
    if doc.preceding_invoice_number:
        found.append(("invoice_number", doc.preceding_invoice_number))
    return found


@rule("BR-FR-01", FR, "error", "French seller: document numbers have at most 35 characters.")
def number_length(doc: Document) -> Broken:
    if doc.seller.country == "FR":
        for field, number in _numbers(doc):
            if len(number) > 35:
                yield field, "a number has at most 35 characters"


@rule(
    "BR-FR-02",
    FR,
    "error",
    "French seller: document numbers use only letters, digits and + - _ /.",
)
def number_characters(doc: Document) -> Broken:
    if doc.seller.country == "FR":
        for field, number in _numbers(doc):
            if number and not _ID_CHARS.fullmatch(number):
                yield field, "a number uses only letters, digits and + - _ /"


@rule("BR-FR-10", FR, "error", "French seller: its SIREN (BT-30) is given and valid.")
def seller_siren(doc: Document) -> Broken:
    if doc.seller.country == "FR" and siren_of(doc.seller.company_id) is None:
        yield "business.company_id", "a French seller states its valid SIREN (9 digits) or SIRET"


@rule(
    "BR-FR-11",
    FR,
    "error",
    "French seller, French business client (B2B): the client's SIREN (BT-47) is given and valid.",
)
def buyer_siren(doc: Document) -> Broken:
    if is_french_b2b(doc) and siren_of(doc.buyer.company_id) is None:
        yield "client.company_id", "a French business client's valid SIREN is required"


@rule(
    "BR-FR-CO-12",
    FR,
    "error",
    "French seller, invoice not in its accounting currency: the exchange rate for the VAT "
    "in that currency (BT-6, BT-111) is given.",
)
def french_vat_in_accounting_currency(doc: Document) -> Broken:
    if doc.seller.country == "FR":
        yield from _exchange_rate_missing(doc)


@rule(
    "FF-BT-111",
    "FastFaktura",
    "error",
    "Other sellers, invoice not in the accounting currency: the exchange rate for the VAT in "
    "that currency (VAT directive art. 230) is given.",
)
def vat_in_accounting_currency(doc: Document) -> Broken:
    if doc.seller.country != "FR":
        yield from _exchange_rate_missing(doc)


def _exchange_rate_missing(doc: Document) -> Broken:
    foreign = doc.accounting_currency is not None and doc.currency != doc.accounting_currency
    if doc.kind == "invoice" and foreign and doc.tax_exchange_rate is None:
        yield (
            "tax_exchange_rate",
            f"an invoice in {doc.currency} states the rate to {doc.accounting_currency}",
        )


@rule(
    "FF-FR-OPERATION",
    FR,
    "warning",
    "French seller: the operation category (goods, services or mixed) is stated.",
)
def operation_category(doc: Document) -> Broken:
    if doc.seller.country == "FR" and doc.operation_category is None:
        yield "operation_category", "state whether the invoice is for goods, services or both"
