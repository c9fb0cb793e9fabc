"""Commands the payments worker gives: the PaymentIntent's life, and card payments."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastfaktura.application.base import Decided, WriteModel, Written
from fastfaktura.domain.invoice import Invoice


class CardPaymentCommands(WriteModel):
    def record_payment_request(
        self,
        business_id: UUID,
        invoice_id: UUID,
        *,
        provider: str,
        payment_intent_id: str,
        amount_cents: int,
        livemode: bool,
    ) -> Written[Invoice]:
        """The PaymentIntent created for the invoice, as `payment_requested` (once)."""
        return self._change(
            Invoice,
            invoice_id,
            business_id,
            lambda invoice: invoice.record_payment_request(
                provider=provider,
                payment_intent_id=payment_intent_id,
                amount_cents=amount_cents,
                livemode=livemode,
            ),
        )

    def record_payment_request_failed(
        self, business_id: UUID, invoice_id: UUID, *, provider: str, error: str
    ) -> Written[Invoice]:
        return self._change(
            Invoice,
            invoice_id,
            business_id,
            lambda invoice: invoice.record_payment_request_failed(provider=provider, error=error),
        )

    def record_payment_request_update(
        self, business_id: UUID, invoice_id: UUID, *, payment_intent_id: str, amount_cents: int
    ) -> Written[Invoice]:
        return self._change(
            Invoice,
            invoice_id,
            business_id,
            lambda invoice: invoice.record_payment_request_update(
                payment_intent_id=payment_intent_id, amount_cents=amount_cents
            ),
        )

    def record_payment_request_closed(
        self, business_id: UUID, invoice_id: UUID, *, payment_intent_id: str, reason: str
    ) -> Written[Invoice]:
        return self._change(
            Invoice,
            invoice_id,
            business_id,
            lambda invoice: invoice.record_payment_request_closed(
                payment_intent_id=payment_intent_id, reason=reason
            ),
        )

    def record_card_payment(
        self,
        business_id: UUID,
        invoice_id: UUID,
        *,
        payment_intent_id: str,
        amount_cents: int,
        paid_at: datetime,
    ) -> Written[bool]:
        """A provider-confirmed card payment: `payment_recorded` (and `paid`) once per
        PaymentIntent; the value says whether this call recorded it."""

        def attempt() -> Decided[bool]:
            invoice = self.get(Invoice, invoice_id, business_id)
            recorded_now = invoice.record_card_payment(
                payment_intent_id, amount_cents, paid_at.isoformat()
            )
            return Decided(recorded_now, (invoice,))

        return self._command(attempt)
