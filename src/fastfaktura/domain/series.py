"""The gapless numbering series an invoice is saved with.

An invoice is numbered when it is created, from an InvoiceSeries (one per business and year)
saved in the same transaction: a number is consumed only if the invoice is stored, and two
concurrent creations collide on the series' version, so one of them retries.
"""

from __future__ import annotations

from typing import Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

_SERIES_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/invoice-series")


def format_number(prefix: str, year: int, sequence: int) -> str:
    """`{invoice_prefix}{YYYY}-{NNNNN}`, e.g. F2026-00042 (more digits past 99,999)."""
    return f"{prefix}{year}-{sequence:05d}"


def series_id(business_id: UUID, year: int) -> UUID:
    return uuid5(_SERIES_NAMESPACE, f"{business_id}/{year}")


class InvoiceSeries(Aggregate):
    """The last number used by a business in a calendar year."""

    TOPIC = "fastfaktura:InvoiceSeries"

    @event("Created", topic="fastfaktura:InvoiceSeries.Created")
    def __init__(self, business_id: UUID, year: int) -> None:
        self.business_id = business_id
        self.year = year
        self.last = 0

    @staticmethod
    def create_id(business_id: UUID, year: int, **_: object) -> UUID:
        return series_id(business_id, year)

    @property
    def next_sequence(self) -> int:
        return self.last + 1

    def allocate(self, invoice_id: UUID) -> int:
        """Give the next number to `invoice_id` (saved with that invoice, or not at all)."""
        self._allocated(sequence=self.last + 1, invoice_id=invoice_id)
        return self.last

    @event("NumberAllocated", topic="fastfaktura:InvoiceSeries.NumberAllocated")
    def _allocated(self, sequence: int, invoice_id: UUID) -> None:
        self.last = sequence


# -- credit notes: their own series, by the same mechanism ---------------------------------------

_CREDIT_NOTE_SERIES_NAMESPACE: Final = uuid5(
    NAMESPACE_URL, "https://fastfaktura.io/ns/credit-note-series"
)


def credit_note_series_id(business_id: UUID, year: int) -> UUID:
    return uuid5(_CREDIT_NOTE_SERIES_NAMESPACE, f"{business_id}/{year}")


class CreditNoteSeries(Aggregate):
    """The last credit-note number used by a business in a calendar year
    (`{credit_note_prefix}{YYYY}-{NNNNN}`): saved with the credit note it numbers, or not at
    all, so concurrent credit notes collide on its version exactly as invoices do."""

    TOPIC = "fastfaktura:CreditNoteSeries"

    @event("Created", topic="fastfaktura:CreditNoteSeries.Created")
    def __init__(self, business_id: UUID, year: int) -> None:
        self.business_id = business_id
        self.year = year
        self.last = 0

    @staticmethod
    def create_id(business_id: UUID, year: int, **_: object) -> UUID:
        return credit_note_series_id(business_id, year)

    @property
    def next_sequence(self) -> int:
        return self.last + 1

    def allocate(self, credit_note_id: UUID) -> int:
        self._allocated(sequence=self.last + 1, credit_note_id=credit_note_id)
        return self.last

    @event("NumberAllocated", topic="fastfaktura:CreditNoteSeries.NumberAllocated")
    def _allocated(self, sequence: int, credit_note_id: UUID) -> None:
        self.last = sequence
