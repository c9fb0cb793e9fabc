"""An invoice's e-invoicing terms (API.md "E-invoices and legal checks", "Payment references").

Pure. `created` and `changed` record them as one `terms` object in their data:

- `operation_category` (`goods|services|mixed`): the French reform's operation category;
- `delivery_address`: where the goods or services are delivered, when it differs (BG-15);
- `tax_exchange_rate`: units of the accounting currency for one unit of the invoice's currency
  (a canonical decimal string), for BT-111 `tax_cents_accounting`;
- `accounting_currency`: the business's currency when the invoice was decided (BT-6);
- `payment_reference` (`created` only): BT-83, domain/payment_reference.py. It never changes.

Events stored before these existed carry no `terms`: an invoice then reads as `services`, no
delivery address or rate, and its reference derived from its number (the same rule as new
invoices), so a replay, a rebuild and the audit agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

from fastfaktura.domain.money import canonical, round_cents
from fastfaktura.domain.payment_reference import reference_for_number

OPERATION_CATEGORIES: Final = ("goods", "services", "mixed")
DEFAULT_OPERATION_CATEGORY: Final = "services"
# The fields an edit may change (the reference is the invoice's for good).
EDITABLE_TERMS: Final = ("operation_category", "delivery_address", "tax_exchange_rate")


@dataclass(frozen=True)
class InvoiceTerms:
    payment_reference: str
    operation_category: str = DEFAULT_OPERATION_CATEGORY
    delivery_address: str | None = None
    tax_exchange_rate: str | None = None
    accounting_currency: str | None = None

    @classmethod
    def recorded(
        cls, terms: dict[str, Any] | None, number: str, seller: dict[str, Any]
    ) -> InvoiceTerms:
        """The terms `created` recorded (older events: the defaults, the reference derived)."""
        terms = dict(terms or {})
        reference = terms.pop("payment_reference", None) or reference_for_number(
            number, seller.get("country")
        )
        # One construction, not a default one then a copy (every fold of a `created`).
        return cls(payment_reference=reference, **_known(terms))

    def changed(self, terms: dict[str, Any] | None) -> InvoiceTerms:
        """The terms after a `changed` (older events carry none: nothing changes)."""
        return replace(self, **_known(terms or {}))

    def tax_cents_accounting(self, tax_cents: int, currency: str) -> int | None:
        """BT-111: the VAT total in the accounting currency, half away from zero; None when
        the invoice is in the accounting currency or has no rate yet."""
        if self.tax_exchange_rate is None or currency == self.accounting_currency:
            return None
        return round_cents(tax_cents * Decimal(self.tax_exchange_rate))


_KNOWN_FIELDS: Final = frozenset((*EDITABLE_TERMS, "accounting_currency"))


def _known(terms: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in terms.items() if key in _KNOWN_FIELDS}


def terms_record(terms: dict[str, Any]) -> dict[str, Any]:
    """The `terms` an event records: every field given, the rate as a canonical string."""
    record = dict(terms)
    rate = record.get("tax_exchange_rate")
    if rate is not None:
        record["tax_exchange_rate"] = str(canonical(Decimal(str(rate))))
    return record
