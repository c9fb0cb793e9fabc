"""The Invoice aggregate: drafted, numbered and priced, then sent, viewed, paid, credited or
cancelled. Parts decided elsewhere: drafting.py, series.py, pricing.py, vat_categories.py,
invoice_terms.py (terms, payment reference), payment_request.py; credit notes are their own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from fastfaktura.domain import crediting
from fastfaktura.domain import payment_request as card_request
from fastfaktura.domain.deliveries import pending_delivery, planned_deliveries
from fastfaktura.domain.drafting import draft_invoice, drafted_content
from fastfaktura.domain.errors import PaymentOutsideAmountDue
from fastfaktura.domain.history import RememberedEvent
from fastfaktura.domain.invoice_states import (
    CREDITABLE,
    EDITABLE,
    PAYABLE,
    REMINDABLE,
    InvoiceStateError,
    require_cancellable,
    require_status,
    upcast_older_events,
    view_to_record,
)
from fastfaktura.domain.invoice_terms import InvoiceTerms, terms_record
from fastfaktura.domain.payment_request import PaymentRequest, ProviderAction
from fastfaktura.domain.pricing import InvoiceLine
from fastfaktura.domain.vat_categories import categorized

__all__ = ["CREDITABLE", "Invoice", "InvoiceLine", "InvoiceStateError"]


class Invoice(Aggregate):
    TOPIC = "fastfaktura:Invoice"
    # Every event, in order, in `history`: the timeline read model maps them (domain/history.py).
    Event = RememberedEvent
    history: list[Any]

    @event("Created", topic="fastfaktura:Invoice.Created")
    def __init__(
        self,
        business_id: UUID,
        client_id: UUID,
        number: str,
        currency: str,
        issue_date: str,
        due_date: str,
        notes: str | None,
        lines: list[dict[str, Any]],
        subtotal_cents: int,
        tax_cents: int,
        total_cents: int,
        tax_breakdown: list[dict[str, Any]],
        public_token: str,
        seller: dict[str, Any],
        buyer: dict[str, Any],
        terms: dict[str, Any] | None = None,  # older events: none (invoice_terms.py)
    ) -> None:
        self.business_id = business_id
        self.client_id = client_id
        self.number = number
        self.currency = currency
        self.issue_date = issue_date
        self.due_date = due_date
        self.notes = notes
        self.lines, self.tax_breakdown = categorized(lines, tax_breakdown, seller, buyer)
        self.subtotal_cents = subtotal_cents
        self.tax_cents = tax_cents
        self.total_cents = total_cents
        self.public_token = public_token
        self.seller = seller
        self.buyer = buyer
        self.terms = InvoiceTerms.recorded(terms, number, seller)
        self.status = "draft"
        self.amount_paid_cents = 0
        # What credit notes credited: in all, and per VAT rate ({rate: [base, tax]}).
        self.amount_credited_cents = 0
        self.credited_by_rate: dict[str, list[int]] = {}
        self.was_sent = False
        self.deliveries: dict[str, dict[str, Any]] = {}  # by id: channel, to, kind, status...
        self.payment_request: PaymentRequest | None = None  # the card request (PaymentIntent)
        self.card_payment_references: set[str] = set()  # a PaymentIntent is counted once
        self.last_opened_on: str | None = None  # the UTC day of the last `opened`

    @classmethod
    def draft(cls, **fields: Any) -> Invoice:
        """Price the lines, check the dates, record `created` (domain/drafting.py)."""
        return draft_invoice(cls, **fields)

    # -- draft edits (API.md "Drafts") ---------------------------------------------------------

    def check_editable(self) -> None:
        require_status(self.status, "edit", EDITABLE)

    def edit(
        self,
        *,
        client_id: UUID,
        currency: str,
        due_date: date,
        notes: str | None,
        lines: list[InvoiceLine],
        seller: dict[str, Any],
        buyer: dict[str, Any],
        terms: dict[str, Any] | None = None,
    ) -> None:
        """Decide a draft's edit like a creation (RulesBroken); number and reference kept."""
        self.check_editable()
        issued_on = date.fromisoformat(self.issue_date)
        content = drafted_content(lines, issued_on, due_date, seller, buyer)
        due, terms = due_date.isoformat(), terms_record(terms or {})
        self._changed(client_id, currency, due, notes, content, seller, buyer, terms)

    @event("Changed", topic="fastfaktura:Invoice.Changed")
    def _changed(
        self,
        client_id: UUID,
        currency: str,
        due_date: str,
        notes: str | None,
        content: dict[str, Any],
        seller: dict[str, Any],
        buyer: dict[str, Any],
        terms: dict[str, Any] | None = None,
    ) -> None:
        vars(self).update(content, client_id=client_id, currency=currency, due_date=due_date)
        self.notes, self.seller, self.buyer = notes, seller, buyer
        self.lines, self.tax_breakdown = categorized(self.lines, self.tax_breakdown, seller, buyer)
        self.terms = self.terms.changed(terms)

    @property
    def amount_due_cents(self) -> int:
        """What is still to pay: never below 0 (a credit after a payment is refunded)."""
        return max(0, self.total_cents - self.amount_paid_cents - self.amount_credited_cents)

    @property
    def creditable_cents(self) -> int:
        return self.total_cents - self.amount_credited_cents

    # -- lifecycle (API.md's table). Public methods decide; private @event methods record. ----
    def send(
        self,
        recipients: Mapping[str, str | None],
        *,
        reminder: bool = False,
        documents: Mapping[str, str] | None = None,
    ) -> None:
        """First send: draft -> sent (with the issued `documents`' SHA-256 by kind, so that the
        hash chain covers them). Reminder: status unchanged. One delivery per channel."""
        self.check_sendable(reminder=reminder)
        kind = "reminder" if reminder else "invoice"
        deliveries = planned_deliveries(self.id, self.version + 1, recipients, kind)
        if reminder:
            self._reminder_sent(deliveries=deliveries)
        else:  # events of sends that issued no documents hold none (the default on replay)
            self._sent(
                deliveries=deliveries, **({"documents": dict(documents)} if documents else {})
            )

    def check_sendable(self, *, reminder: bool) -> None:
        if reminder:
            require_status(self.status, "send a reminder for", REMINDABLE)
        else:
            require_status(self.status, "send", ("draft",))

    @event("Sent", topic="fastfaktura:Invoice.Sent")
    def _sent(
        self, deliveries: list[dict[str, Any]], documents: dict[str, str] | None = None
    ) -> None:
        self.status = "sent"
        self.was_sent = True
        self._decided(deliveries)

    @event("ReminderSent", topic="fastfaktura:Invoice.ReminderSent")
    def _reminder_sent(self, deliveries: list[dict[str, Any]]) -> None:
        self._decided(deliveries)

    def _decided(self, deliveries: list[dict[str, Any]]) -> None:
        for delivery in deliveries:
            self.deliveries[delivery["id"]] = {**delivery, "status": "pending", "error": None}

    def record_delivery(self, delivery_id: str, *, error: str | None = None) -> bool:
        """The outcome of one delivery, once: a repeat (a retried worker) records nothing."""
        delivery = pending_delivery(self.deliveries, delivery_id)
        if delivery is None:
            return False
        if error is None:
            self._delivered(delivery_id=delivery_id, channel=delivery["channel"])
        else:
            self._delivery_failed(delivery_id=delivery_id, channel=delivery["channel"], error=error)
        return True

    @event("Delivered", topic="fastfaktura:Invoice.Delivered")
    def _delivered(self, delivery_id: str, channel: str) -> None:
        self.deliveries[delivery_id]["status"] = "delivered"

    @event("DeliveryFailed", topic="fastfaktura:Invoice.DeliveryFailed")
    def _delivery_failed(self, delivery_id: str, channel: str, error: str) -> None:
        self.deliveries[delivery_id].update(status="failed", error=error)

    def open(self, today: date) -> bool:
        """A view of the public page on UTC day `today`; False: nothing recorded (at most one
        `opened` a day: domain/invoice_states.py `view_to_record`)."""
        day = view_to_record(self.was_sent, self.last_opened_on, today)
        if day is None:
            return False
        self._opened(on=day)
        return True

    @event("Opened", topic="fastfaktura:Invoice.Opened")
    def _opened(self, on: str) -> None:
        if self.status == "sent":
            self.status = "opened"
        self.last_opened_on = on

    def mark_overdue(self, today: date) -> bool:
        """Record `overdue` once, for a sent or opened invoice past its due date."""
        if self.status in ("sent", "opened") and today > date.fromisoformat(self.due_date):
            self._overdue(on=today.isoformat())
            return True
        return False

    @event("Overdue", topic="fastfaktura:Invoice.Overdue")
    def _overdue(self, on: str) -> None:
        self.status = "overdue"

    def record_payment(
        self, amount_cents: int, method: str, paid_at: str, reference: str | None
    ) -> None:
        """A payment (partial allowed); `paid` follows when nothing is due any more."""
        require_status(self.status, "record a payment for", PAYABLE)
        if not 0 < amount_cents <= self.amount_due_cents:
            raise PaymentOutsideAmountDue(amount_cents, self.amount_due_cents)
        self._payment_recorded(
            amount_cents=amount_cents, method=method, paid_at=paid_at, reference=reference
        )
        if self.amount_due_cents == 0:
            self._paid()

    @event("PaymentRecorded", topic="fastfaktura:Invoice.PaymentRecorded")
    def _payment_recorded(
        self, amount_cents: int, method: str, paid_at: str, reference: str | None
    ) -> None:
        self.amount_paid_cents += amount_cents
        if method == "card" and reference:
            self.card_payment_references.add(reference)

    # -- card payments (docs/payments.md) ------------------------------------------------------

    @property
    def awaits_payment_request(self) -> bool:
        """Sent, money due, and no card payment request made or refused yet."""
        return self.payment_request_action is ProviderAction.CREATE

    @property
    def payment_request_action(self) -> ProviderAction | None:
        """What the payments worker has to do at the provider (payment_request.next_action)."""
        return card_request.next_action(
            self.payment_request, self._payable_cents, self.card_payment_references
        )

    @property
    def payable_intent_id(self) -> str | None:
        """The PaymentIntent the client may pay now: money is due and the request is open."""
        return card_request.payable_intent(self.payment_request, self._payable_cents)

    @property
    def _payable_cents(self) -> int:
        return self.amount_due_cents if self.status in PAYABLE else 0

    def record_payment_request(
        self, *, provider: str, payment_intent_id: str, amount_cents: int, livemode: bool
    ) -> bool:
        """The PaymentIntent created for this invoice, once, whatever the status now."""
        if not self.was_sent:
            raise InvoiceStateError("cannot request a payment for an invoice never sent")
        if self.payment_request is not None:
            return False
        self._payment_requested(
            provider=provider,
            payment_intent_id=payment_intent_id,
            amount_cents=amount_cents,
            currency=self.currency,
            livemode=livemode,
        )
        return True

    @event("PaymentRequested", topic="fastfaktura:Invoice.PaymentRequested")
    def _payment_requested(
        self,
        provider: str,
        payment_intent_id: str,
        amount_cents: int,
        currency: str,
        livemode: bool,
    ) -> None:
        self.payment_request = PaymentRequest.requested(provider, payment_intent_id, amount_cents)

    def record_payment_request_update(self, *, payment_intent_id: str, amount_cents: int) -> bool:
        """The intent now asks for `amount_cents` (once per change)."""
        if not card_request.changes_amount(self.payment_request, payment_intent_id, amount_cents):
            return False
        self._payment_request_updated(
            payment_intent_id=payment_intent_id, amount_cents=amount_cents
        )
        return True

    @event("PaymentRequestUpdated", topic="fastfaktura:Invoice.PaymentRequestUpdated")
    def _payment_request_updated(self, payment_intent_id: str, amount_cents: int) -> None:
        if self.payment_request is not None:
            self.payment_request = self.payment_request.updated(amount_cents)

    def record_payment_request_closed(self, *, payment_intent_id: str, reason: str) -> bool:
        """The intent takes no money any more (cancelled at the provider, or found closed)."""
        if not card_request.is_open_for(self.payment_request, payment_intent_id):
            return False
        self._payment_request_closed(payment_intent_id=payment_intent_id, reason=reason)
        return True

    @event("PaymentRequestClosed", topic="fastfaktura:Invoice.PaymentRequestClosed")
    def _payment_request_closed(self, payment_intent_id: str, reason: str) -> None:
        if self.payment_request is not None:
            self.payment_request = self.payment_request.closed(reason)

    def record_payment_request_failed(self, *, provider: str, error: str) -> bool:
        """The provider refused the request for good, once."""
        if self.payment_request is not None:
            return False
        self._payment_request_failed(provider=provider, error=error)
        return True

    @event("PaymentRequestFailed", topic="fastfaktura:Invoice.PaymentRequestFailed")
    def _payment_request_failed(self, provider: str, error: str) -> None:
        self.payment_request = PaymentRequest.failed(provider, error)

    def record_card_payment(self, payment_intent_id: str, amount_cents: int, paid_at: str) -> bool:
        """A card payment the provider confirmed, once per PaymentIntent (False: a repeat);
        refused beyond the amount due (the caller keeps it for an operator)."""
        if payment_intent_id in self.card_payment_references:
            return False
        self.record_payment(amount_cents, "card", paid_at, payment_intent_id)
        return True

    @event("Paid", topic="fastfaktura:Invoice.Paid")
    def _paid(self) -> None:
        self.status = "paid"

    def credit(
        self, credit_note_id: UUID, amount_cents: int, tax_breakdown: list[dict[str, Any]]
    ) -> None:
        """A credit note issued against this invoice: at most what earlier ones left."""
        self.check_creditable()
        crediting.check_credit_amount(amount_cents, self.creditable_cents)
        self._credited(
            credit_note_id=credit_note_id, amount_cents=amount_cents, tax_breakdown=tax_breakdown
        )

    def check_creditable(self) -> None:
        require_status(self.status, "credit", CREDITABLE)
        if self.creditable_cents <= 0:
            raise InvoiceStateError("cannot credit an invoice that is fully credited")

    @event("Credited", topic="fastfaktura:Invoice.Credited")
    def _credited(
        self, credit_note_id: UUID, amount_cents: int, tax_breakdown: list[dict[str, Any]]
    ) -> None:
        self.amount_credited_cents += amount_cents
        self.credited_by_rate = crediting.credited_rates(self.credited_by_rate, tax_breakdown)
        self.status = crediting.status_after_credit(
            self.status, self.total_cents, self.amount_paid_cents, self.amount_credited_cents
        )

    def check_cancellable(self) -> None:  # with payments: credited, not cancelled (API.md)
        require_cancellable(self.status, self.amount_paid_cents)

    def cancel(
        self, reason: str | None, credit_note_id: UUID | None = None, credited_cents: int = 0
    ) -> None:
        """Keeps its number; an issued one names the credit note annulling it (one transaction)."""
        self.check_cancellable()
        issued = self.status != "draft"
        crediting.check_annulment(issued, credit_note_id, credited_cents, self.creditable_cents)
        self._cancelled(reason=reason, credit_note_id=credit_note_id, credited_cents=credited_cents)

    # Events stored before credit notes existed carry neither: the defaults apply on replay.
    @event("Cancelled", topic="fastfaktura:Invoice.Cancelled")
    def _cancelled(
        self, reason: str | None, credit_note_id: UUID | None = None, credited_cents: int = 0
    ) -> None:
        self.status = "cancelled"
        self.amount_credited_cents += credited_cents


upcast_older_events(Invoice)
