"""A business's sales bookkeeping, folded from its events: the journal entries an accountant
books for what was invoiced, credited, paid and refunded (docs/audit.md "The FEC export").

Pure: the caller hands over the business's events in commit order (its hash chain's order);
`Ledger` folds each into its aggregate and books an entry for the facts that move money:

    invoice issued (first `sent`)  VE  411 client  debit total / 706 credit net per VAT rate
                                       / 44571 credit VAT per rate
    credit note issued             VE  the reverse
    invoice cancelled when issued, without a credit note (events stored before credit notes
    existed)                       VE  the reverse of what no credit note credited
    payment recorded               BQ  512 bank debit / 411 client credit
    refund recorded                BQ  411 client debit / 512 bank credit

Amounts are the documents' own, in cents of their currency. Every entry balances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastfaktura.domain.crediting import rate_key, remaining_by_rate


@dataclass(frozen=True)
class Journal:
    code: str
    label: str


@dataclass(frozen=True)
class Account:
    number: str
    label: str


SALES = Journal("VE", "Ventes")
BANK = Journal("BQ", "Banque")
# The French chart of accounts (PCG), padded to six digits as most accounting software keeps
# them; the client account carries each client as its auxiliary account.
CLIENTS = Account("411000", "Clients")
SERVICES = Account("706000", "Prestations de services")
VAT_COLLECTED = Account("445710", "TVA collectée")
BANK_ACCOUNT = Account("512000", "Banque")

# The topics of the aggregates a ledger folds (the export reads only these).
TOPIC_PREFIXES = ("fastfaktura:Business.", "fastfaktura:Invoice.", "fastfaktura:CreditNote.")


@dataclass(frozen=True)
class Line:
    account: Account
    debit_cents: int
    credit_cents: int
    label: str
    # The client (its id, its name on the document) on the client account's lines.
    client: tuple[str, str] | None = None


@dataclass(frozen=True)
class Entry:
    journal: Journal
    day: date  # the entry's date: the document's date, or the payment's
    piece_ref: str  # the document's number
    piece_day: date
    valid_day: date  # the UTC day the fact was recorded, after which it never changes
    currency: str
    lines: tuple[Line, ...]

    @property
    def balanced(self) -> bool:
        return sum(ln.debit_cents for ln in self.lines) == sum(ln.credit_cents for ln in self.lines)


@dataclass(frozen=True)
class Numbered:
    number: str  # EcritureNum: gapless per journal and year, in date then commit order
    entry: Entry


class Ledger:
    """Folds a business's events, given in commit order, and books their entries."""

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self.entries: list[Entry] = []

    def apply(self, event: Any) -> None:
        aggregate = event.mutate(self.aggregates.get(event.originator_id))
        self.aggregates[event.originator_id] = aggregate
        recorded = event.timestamp.astimezone(UTC).date()
        topic = type(event).TOPIC
        if topic == "fastfaktura:Invoice.Sent":
            self.entries.append(_issued(aggregate, recorded, "Facture", reverse=False))
        elif topic == "fastfaktura:CreditNote.Issued":
            self.entries.append(_issued(aggregate, recorded, "Avoir", reverse=True))
        elif topic == "fastfaktura:Invoice.PaymentRecorded":
            self.entries.append(_payment(aggregate, event, recorded))
        elif topic == "fastfaktura:CreditNote.RefundRecorded":
            self.entries.append(_refund(aggregate, event, recorded))
        elif topic == "fastfaktura:Invoice.Cancelled" and _cancelled_alone(aggregate, event):
            self.entries.append(_annulled(aggregate, recorded))

    def year(self, year: int) -> list[Numbered]:
        """The entries dated in `year`, numbered per journal: VE2026-000001, ... (sorted by
        journal, then date, then the order their facts were recorded)."""
        numbered: list[Numbered] = []
        for journal in (SALES, BANK):
            chosen = [e for e in self.entries if e.journal == journal and e.day.year == year]
            chosen.sort(key=lambda entry: entry.day)  # stable: commit order within a day
            numbered += [
                Numbered(f"{journal.code}{year}-{index:06d}", entry)
                for index, entry in enumerate(chosen, start=1)
            ]
        return numbered


def _issued(document: Any, recorded: date, kind: str, *, reverse: bool) -> Entry:
    """An invoice (or, reversed, a credit note): the client owes its total, split into sales
    and VAT per rate."""
    label = f"{kind} {document.number}"
    return _document_entry(
        document, recorded, label, document.tax_breakdown, document.total_cents, reverse=reverse
    )


def _document_entry(
    document: Any,
    recorded: date,
    label: str,
    breakdown: Iterable[Mapping[str, Any]],
    total_cents: int,
    *,
    reverse: bool,
) -> Entry:
    client = (str(document.client_id), str(document.buyer.get("name") or ""))
    lines = [_line(CLIENTS, total_cents, f"{label} {client[1]}".strip(), reverse, client)]
    for item in breakdown:
        rate = rate_key(item["rate"]).replace(".", ",")
        lines.append(_line(SERVICES, -item["base_cents"], f"{label} HT {rate} %", reverse))
        if item["tax_cents"]:
            lines.append(_line(VAT_COLLECTED, -item["tax_cents"], f"{label} TVA {rate} %", reverse))
    day = date.fromisoformat(document.issue_date)
    return Entry(SALES, day, document.number, day, recorded, document.currency, tuple(lines))


def _line(
    account: Account,
    debit_cents: int,
    label: str,
    reverse: bool,
    client: tuple[str, str] | None = None,
) -> Line:
    """A line of `debit_cents` (negative: a credit), on the other side when `reverse`."""
    amount = -debit_cents if reverse else debit_cents
    return Line(account, max(amount, 0), max(-amount, 0), label, client)


def _payment(invoice: Any, event: Any, recorded: date) -> Entry:
    label = f"Règlement {invoice.number} {event.method}" + (
        f" {event.reference}" if event.reference else ""
    )
    return _money(invoice, event.amount_cents, event.paid_at, recorded, label, refund=False)


def _refund(note: Any, event: Any, recorded: date) -> Entry:
    label = f"Remboursement {note.number} {event.method}" + (
        f" {event.reference}" if event.reference else ""
    )
    return _money(note, event.amount_cents, event.refunded_at, recorded, label, refund=True)


def _money(
    document: Any, cents: int, at: str, recorded: date, label: str, *, refund: bool
) -> Entry:
    """Money received (512 debit, 411 credit) or given back (the reverse) on a document."""
    day = _utc_day(at)
    client = (str(document.client_id), str(document.buyer.get("name") or ""))
    lines = (
        _line(BANK_ACCOUNT, cents, label, refund),
        _line(CLIENTS, -cents, label, refund, client),
    )
    return Entry(BANK, day, document.number, day, recorded, document.currency, lines)


def _cancelled_alone(invoice: Any, event: Any) -> bool:
    """An issued invoice cancelled before credit notes existed: nothing else reverses it."""
    return bool(invoice.was_sent) and getattr(event, "credit_note_id", None) is None


def _annulled(invoice: Any, recorded: date) -> Entry:
    remaining = remaining_by_rate(invoice.tax_breakdown, invoice.credited_by_rate)
    breakdown = [
        {"rate": Decimal(item.rate), "base_cents": item.base_cents, "tax_cents": item.tax_cents}
        for item in remaining
    ]
    total = sum(item.base_cents + item.tax_cents for item in remaining)
    entry = _document_entry(
        invoice, recorded, f"Annulation facture {invoice.number}", breakdown, total, reverse=True
    )
    # Dated when it was cancelled: the invoice's own date may be in a closed year.
    return replace(entry, day=recorded)


def _utc_day(at: str) -> date:
    """The UTC day of a recorded moment (an RFC 3339 string; one without offset is UTC)."""
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()
