"""The CreditNote aggregate: the legal correction of an issued invoice (EN 16931 type 381).

Its own stream and its own gapless number series (domain/series.py `CreditNoteSeries`). It is
issued together with the invoice's `credited` (or `cancelled`) in one transaction: the
invoice's version check is what keeps concurrent credit notes from over-crediting it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from fastfaktura.domain.crediting import rate_key, refund_due, remaining_by_rate
from fastfaktura.domain.errors import (
    CreditAboveCreditable,
    CreditLineNotPositive,
    CreditRateNotInvoiced,
    CreditReasonRequired,
    RefundAboveDue,
    RuleBroken,
    RulesBroken,
    UnknownDelivery,
)
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.money import TaxLine
from fastfaktura.domain.pricing import InvoiceLine, breakdown_records, line_records, priced

# The namespace of credit note ids (CreditNote.create_id).
CREDIT_NOTE_IDS = UUID("2f79618e-1001-4722-bcb7-7646b08b7647")


class CreditNote(Aggregate):
    TOPIC = "fastfaktura:CreditNote"

    # Every aggregate class gets a `Created` event class from the library; a credit note's first
    # event is `Issued` instead, and this one is never recorded (it needs a topic all the same).
    class Created(Aggregate.Created):
        TOPIC = "fastfaktura:CreditNote.Created"

    @staticmethod
    def create_id(public_token: str) -> UUID:
        """Derived from the public URL's secret (one-way): a credit note decided again with the
        token its documents were rendered with has the id they were stored under."""
        return uuid5(CREDIT_NOTE_IDS, public_token)

    @event("Issued", topic="fastfaktura:CreditNote.Issued")
    def __init__(
        self,
        business_id: Any,
        invoice_id: Any,
        invoice_number: str,
        invoice_issue_date: str,
        client_id: Any,
        number: str,
        currency: str,
        issue_date: str,
        reason: str,
        lines: list[dict[str, Any]],
        subtotal_cents: int,
        tax_cents: int,
        total_cents: int,
        tax_breakdown: list[dict[str, Any]],
        refund_due_cents: int,
        public_token: str,
        seller: dict[str, Any],
        buyer: dict[str, Any],
        # The SHA-256 by kind of the documents it is issued with (adapters/pdf/credit_notes.py),
        # so that the hash chain covers them; absent from credit notes issued before (replay
        # takes the default) and from those issued without documents (None).
        documents: dict[str, str] | None = None,
    ) -> None:
        self.business_id = business_id
        self.invoice_id = invoice_id
        self.invoice_number = invoice_number
        self.invoice_issue_date = invoice_issue_date
        self.client_id = client_id
        self.number = number
        self.currency = currency
        self.issue_date = issue_date
        self.reason = reason
        self.lines = lines
        self.subtotal_cents = subtotal_cents
        self.tax_cents = tax_cents
        self.total_cents = total_cents
        self.tax_breakdown = tax_breakdown
        self.refund_owed_cents = refund_due_cents
        self.public_token = public_token
        self.seller = seller
        self.buyer = buyer
        self.refunded_cents = 0
        # Stripe refund ids already recorded: a refund is never counted twice.
        self.card_refund_references: set[str] = set()
        # Every delivery ever decided, by id: {id, channel, to, kind, status, error}.
        self.deliveries: dict[str, dict[str, Any]] = {}

    @property
    def refund_due_cents(self) -> int:
        return self.refund_owed_cents - self.refunded_cents

    def record_refund(
        self, amount_cents: int, method: str, refunded_at: str, reference: str | None
    ) -> None:
        """Money given back to the client, at most what is still owed."""
        if not 0 < amount_cents <= self.refund_due_cents:
            raise RefundAboveDue(amount_cents, self.refund_due_cents)
        self._refund_recorded(
            amount_cents=amount_cents, method=method, refunded_at=refunded_at, reference=reference
        )

    def record_card_refund(self, refund_id: str, amount_cents: int, refunded_at: str) -> bool:
        """A refund the provider made (reference: its refund id), once per refund id (False: a
        repeat, as when the payments worker retries after a crash)."""
        if refund_id in self.card_refund_references:
            return False
        self.record_refund(amount_cents, "card", refunded_at, refund_id)
        return True

    @event("RefundRecorded", topic="fastfaktura:CreditNote.RefundRecorded")
    def _refund_recorded(
        self, amount_cents: int, method: str, refunded_at: str, reference: str | None
    ) -> None:
        self.refunded_cents += amount_cents
        if method == "card" and reference:
            self.card_refund_references.add(reference)

    # -- sending (API.md "Send", as for an invoice: no reminders, any number of sends) --------

    def send(self, recipients: Mapping[str, str | None]) -> None:
        """Record `sent` with one delivery per channel (`recipients`: channel -> address, None
        for `link`). A delivery's id (credit note, version, channel) is the idempotency key
        that keeps a retry from reaching anyone twice."""
        version = self.version + 1
        self._sent(
            deliveries=[
                {
                    "id": str(uuid5(self.id, f"{version}/{channel}")),
                    "channel": channel,
                    "to": to,
                    "kind": "credit_note",
                }
                for channel, to in recipients.items()
            ]
        )

    @event("Sent", topic="fastfaktura:CreditNote.Sent")
    def _sent(self, deliveries: list[dict[str, Any]]) -> None:
        for delivery in deliveries:
            self.deliveries[delivery["id"]] = {**delivery, "status": "pending", "error": None}

    def record_delivery(self, delivery_id: str, *, error: str | None = None) -> bool:
        """The outcome of one delivery, once: a repeat (a retried worker) records nothing."""
        delivery = self.deliveries.get(delivery_id)
        if delivery is None:
            raise UnknownDelivery(delivery_id)
        if delivery["status"] != "pending":
            return False
        if error is None:
            self._delivered(delivery_id=delivery_id, channel=delivery["channel"])
        else:
            self._delivery_failed(delivery_id=delivery_id, channel=delivery["channel"], error=error)
        return True

    @event("Delivered", topic="fastfaktura:CreditNote.Delivered")
    def _delivered(self, delivery_id: str, channel: str) -> None:
        self.deliveries[delivery_id]["status"] = "delivered"

    @event("DeliveryFailed", topic="fastfaktura:CreditNote.DeliveryFailed")
    def _delivery_failed(self, delivery_id: str, channel: str, error: str) -> None:
        self.deliveries[delivery_id].update(status="failed", error=error)


# The library redefines `Created` on the class it builds (inheriting the topic above): the
# topic is stated on that class itself, as on every event class of the domain.
setattr(CreditNote.__dict__["Created"], "TOPIC", "fastfaktura:CreditNote.Created")  # noqa: B010


def issue_credit_note(
    invoice: Invoice,
    *,
    number: str,
    issue_date: date,
    reason: str,
    lines: list[InvoiceLine] | None,
    public_token: str,
    seller: dict[str, Any],
    buyer: dict[str, Any],
    documents: Mapping[str, str] | None = None,
) -> CreditNote:
    """Decide a credit note against `invoice` (which must be creditable): its own `lines`, or
    everything not yet credited. Raises RulesBroken with every rule broken. The caller records
    the credit on the invoice (`Invoice.credit`, or `Invoice.cancel`) and saves both.
    `documents`: the digests of the documents rendered from this decision, taken before with
    the same `public_token` (which gives the same id: `CreditNote.create_id`)."""
    invoice.check_creditable()
    amounts = credited_amounts(invoice, lines)
    broken: list[RuleBroken] = [] if reason.strip() else [CreditReasonRequired()]
    if isinstance(amounts, list):
        raise RulesBroken(broken + amounts)
    if broken:
        raise RulesBroken(broken)
    return CreditNote(
        business_id=invoice.business_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        client_id=invoice.client_id,
        number=number,
        currency=invoice.currency,
        issue_date=issue_date.isoformat(),
        reason=reason.strip(),
        **amounts,
        refund_due_cents=refund_due(
            invoice.total_cents,
            invoice.amount_paid_cents,
            invoice.amount_credited_cents,
            amounts["total_cents"],
        ),
        public_token=public_token,
        seller=seller,
        buyer=buyer,
        documents=dict(documents) if documents else None,
    )


def shown(note: CreditNote) -> dict[str, Any]:
    """What a credit note's documents show: two decisions with the same render the same."""
    return {
        key: getattr(note, key)
        for key in (
            "id invoice_id invoice_number invoice_issue_date client_id number currency issue_date"
            " reason lines subtotal_cents tax_cents total_cents tax_breakdown refund_owed_cents"
            " public_token seller buyer"
        ).split()
    }


def credited_amounts(
    invoice: Invoice, lines: list[InvoiceLine] | None
) -> dict[str, Any] | list[RuleBroken]:
    """The lines and totals a credit note credits, or the rules its lines break."""
    if lines is not None:
        totals, broken = priced(lines)
        broken += [
            CreditLineNotPositive(i) for i, ln in enumerate(lines) if ln.unit_price_cents <= 0
        ]
        if broken or totals is None:
            return broken
        if not 0 < totals.total_cents <= invoice.creditable_cents:
            return [CreditAboveCreditable(totals.total_cents, invoice.creditable_cents)]
        broken = _rates_broken(invoice, lines, totals.net_cents)
        if broken:
            return broken
        return _amounts(line_records(lines, totals), breakdown_records(totals))
    if invoice.amount_credited_cents == 0:
        # Nothing credited yet: the invoice's own lines, priced as they were.
        return _amounts([dict(line) for line in invoice.lines], list(invoice.tax_breakdown))
    # One line per VAT rate holding what is left of it. Its tax is what is left of the
    # invoice's tax at that rate (not recomputed): rounding could otherwise leave or exceed a
    # cent of what remains, and a full credit must annul the invoice exactly.
    remaining = remaining_by_rate(invoice.tax_breakdown, invoice.credited_by_rate)
    return _amounts(
        [_remainder_line(invoice.number, item) for item in remaining],
        [{"rate": i.rate, "base_cents": i.base_cents, "tax_cents": i.tax_cents} for i in remaining],
    )


def _rates_broken(
    invoice: Invoice, lines: list[InvoiceLine], nets: tuple[int, ...]
) -> list[RuleBroken]:
    """Each line at a rate of the invoice, and no rate credited beyond its base left (the
    rest of each rate is what a later full credit note credits)."""
    left = {
        rate_key(item.rate): item.base_cents
        for item in remaining_by_rate(invoice.tax_breakdown, invoice.credited_by_rate)
    }
    invoiced = {rate_key(item["rate"]) for item in invoice.tax_breakdown}
    asked: dict[str, int] = {}
    broken: list[RuleBroken] = []
    for index, (line, net) in enumerate(zip(lines, nets, strict=True)):
        rate = rate_key(line.tax_rate)
        asked[rate] = asked.get(rate, 0) + net
        if rate not in invoiced:
            broken.append(CreditRateNotInvoiced(index, rate, None))
        elif asked[rate] > left.get(rate, 0):
            broken.append(CreditRateNotInvoiced(index, rate, left.get(rate, 0)))
    return broken


def _remainder_line(invoice_number: str, item: TaxLine) -> dict[str, Any]:
    return {
        "description": f"Invoice {invoice_number}: remaining amount at {item.rate} % VAT",
        "quantity": Decimal(1),
        "unit_price_cents": item.base_cents,
        "tax_rate": item.rate,
        "net_cents": item.base_cents,
    }


def _amounts(lines: list[dict[str, Any]], tax_breakdown: list[dict[str, Any]]) -> dict[str, Any]:
    subtotal = sum(int(line["net_cents"]) for line in lines)
    tax = sum(int(item["tax_cents"]) for item in tax_breakdown)
    return {
        "lines": lines,
        "subtotal_cents": subtotal,
        "tax_cents": tax,
        "total_cents": subtotal + tax,
        "tax_breakdown": tax_breakdown,
    }
