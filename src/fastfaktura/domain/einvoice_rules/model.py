"""What the legal checks judge: a document about to be issued, in its own small model.

Built by the application from an invoice or a credit note (application/einvoice_checks.py),
so the rules never see an aggregate, an event or a request. Fields added by the French reform
and the e-invoice work are optional and default to None: a None there means "not known", and
the rules that need them say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

# The member states' ISO 3166-1 codes (Greece is GR here; its VAT prefix is EL).
EU_COUNTRIES: Final = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
VAT_CATEGORIES: Final = ("S", "Z", "E", "AE", "G")
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Party:
    """The seller (the business, API path `business`) or the buyer (the client, `client`)."""

    name: str | None
    country: str | None
    legal_name: str | None = None
    address: str | None = None
    vat_number: str | None = None
    company_id: str | None = None
    email: str | None = None
    # The seller's payment account (BT-84, BT-86).
    iban: str | None = None
    bic: str | None = None

    @property
    def is_business(self) -> bool:
        """A client is a business (B2B) when it has a VAT number or a company id (API.md)."""
        return bool(self.vat_number or self.company_id)


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price_cents: int
    vat_rate: Decimal
    net_cents: int
    # BT-151 and BT-120/BT-121 when the line states them (h/fields); None: derived from facts.
    vat_category: str | None = None
    vat_exemption_reason: str | None = None


@dataclass(frozen=True)
class VatSubtotal:
    """One entry of the VAT breakdown (BG-23): per rate, as the invoice computes it."""

    rate: Decimal
    base_cents: int
    tax_cents: int


@dataclass(frozen=True)
class Document:
    kind: Literal["invoice", "credit_note"]
    number: str
    issue_date: str | None
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat_breakdown: tuple[VatSubtotal, ...]
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    due_date: str | None = None
    amount_due_cents: int | None = None
    # The business's accounting currency (BT-6 when it differs from `currency`).
    accounting_currency: str | None = None
    # BT-10: what the buyer routes the invoice by (Peppol asks it or an order reference).
    buyer_reference: str | None = None
    # A credit note's preceding invoice (BT-25).
    preceding_invoice_number: str | None = None
    # The seller is under the French VAT exemption (art. 293 B du CGI): category E.
    vat_exempt_293b: bool = False
    # Optional fields the reform adds (wired by the application when they exist).
    payment_reference: str | None = None
    operation_category: str | None = None
    delivery_address: str | None = None
    tax_exchange_rate: Decimal | None = None
    vat_on_debits: bool | None = None


@dataclass(frozen=True)
class Finding:
    """One broken rule: the API field it is about, the rule's code, a message for people."""

    field: str
    rule: str
    message: str


@dataclass(frozen=True)
class Report:
    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        return not self.errors
