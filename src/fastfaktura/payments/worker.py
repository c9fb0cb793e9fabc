"""The payments worker: a policy that follows the log (the invoices read model's `pending`
card payments) and the Stripe webhook inbox. One active per database (advisory lock).

PaymentIntents. For each sent invoice with money due and no request yet, of a business whose
mode has a Stripe key: create a PaymentIntent for the amount due, in the invoice's currency,
with `invoice_id`, `business_id` and `invoice_number` in its metadata, under an idempotency key
derived from the invoice and the amount; then record `payment_requested`. A crash between the
two repeats the create with the same key, and Stripe answers with the same PaymentIntent; the
aggregate records one request only. Stripe refusing the request itself (amount, currency) is
recorded as `payment_request_failed` (the invoice offers no card payment); anything else is
retried with backoff, indefinitely.

Webhooks. Each verified event, kept once per Stripe event id, is settled once:
`payment_intent.succeeded` becomes `payment_recorded` (and `paid`), once per PaymentIntent;
what cannot be applied (an unknown invoice, a cancelled one, another currency, more than is
due, the wrong mode) is kept as `needs_attention` with the reason, logged, and listed by
`fastfaktura payments inbox`; other event types are kept as `ignored`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import anyio.to_thread
import asyncpg
import msgspec
import structlog

from fastfaktura.application import Invoicing
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import InvalidInputError, NotFoundError
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.payments.gateway import (
    PROVIDER,
    PaymentProviderError,
    StripeGateway,
    WebhookEvent,
    parse_event,
)
from fastfaktura.readmodels.sql import statement
from fastfaktura.worker_loop import LockedWorker

log = structlog.get_logger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
# While the read model still shows an invoice as pending after its request was recorded.
READ_MODEL_LAG_BACKOFF_SECONDS = 1.0


def _sql(name: str) -> str:
    return statement("_payments", "queries.sql", name)


def payment_intent_key(invoice_id: UUID, amount_cents: int) -> str:
    """The idempotency key of an invoice's PaymentIntent: a retry of the same request gets the
    same intent. The amount is part of it: were a payment recorded between a crash and its
    retry, the retry asks for the new amount due (the first intent, never shown to anyone,
    is left unused) instead of failing on a key reused with other parameters."""
    return f"fastfaktura:invoice:{invoice_id}:payment-intent:{amount_cents}"


@dataclass(frozen=True)
class Settlement:
    """What became of one webhook event."""

    status: str  # applied | ignored | needs_attention
    outcome: str
    business_id: UUID | None = None
    invoice_id: UUID | None = None


def _uuid(value: Any) -> UUID:
    return UUID(bytes=value.bytes)  # asyncpg's UUID type -> the standard one


@dataclass
class PaymentWorker(LockedWorker):
    LOCK: ClassVar[str] = "fastfaktura.payments-worker"
    pool: asyncpg.Pool
    app: Invoicing
    gateway: StripeGateway
    poll_seconds: float = 0.2
    batch: int = 20
    restart_seconds: float = 1.0
    status: str = "starting"
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_once(self) -> int:
        return await self.settle_webhooks() + await self.request_payments()

    # -- PaymentIntents ------------------------------------------------------------------------

    async def request_payments(self) -> int:
        modes = list(self.gateway.settings.modes)
        if not modes:
            return 0
        rows = await self.pool.fetch(_sql("due_payment_requests"), modes, self.batch)
        for row in rows:
            invoice_id = _uuid(row["id"])
            try:
                await self._request(_uuid(row["business_id"]), invoice_id, row)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                raise  # the database or the network: the loop starts over
            except Exception as exc:
                # A bug or a surprise about one invoice must not stop every other one.
                log.exception("payment request failed", invoice_id=str(invoice_id))
                backoff = min(float(2 ** (row["attempts"] + 1)), MAX_BACKOFF_SECONDS)
                await self._note_attempt(invoice_id, backoff, f"{type(exc).__name__}: {exc}")
        return len(rows)

    async def _request(self, business_id: UUID, invoice_id: UUID, row: asyncpg.Record) -> None:
        invoice = await anyio.to_thread.run_sync(
            lambda: self.app.get(Invoice, invoice_id, business_id)
        )
        if not invoice.awaits_payment_request:
            # Recorded already (or paid, or cancelled): the read model has not caught up yet.
            await self._note_attempt(invoice_id, READ_MODEL_LAG_BACKOFF_SECONDS, None)
            return
        amount = invoice.amount_due_cents
        try:
            intent = await self.gateway.create_payment_intent(
                row["mode"],
                amount_cents=amount,
                currency=invoice.currency,
                metadata={
                    "invoice_id": str(invoice_id),
                    "business_id": str(business_id),
                    "invoice_number": invoice.number,
                },
                idempotency_key=payment_intent_key(invoice_id, amount),
            )
        except PaymentProviderError as exc:
            error = str(exc)
            if exc.permanent:
                log.warning("payment request refused", invoice_id=str(invoice_id), error=error)
                await anyio.to_thread.run_sync(
                    lambda: self.app.record_payment_request_failed(
                        business_id, invoice_id, provider=PROVIDER, error=error
                    )
                )
                return
            backoff = min(float(2 ** (row["attempts"] + 1)), MAX_BACKOFF_SECONDS)
            log.warning(
                "payment request failed; will retry",
                invoice_id=str(invoice_id),
                attempt=row["attempts"] + 1,
                backoff=backoff,
                error=error,
            )
            await self._note_attempt(invoice_id, backoff, error)
            return
        await self._record_request(
            business_id, invoice_id, intent.id, intent.amount_cents, intent.livemode
        )
        log.info("payment requested", invoice_id=str(invoice_id), payment_intent=intent.id)

    async def _record_request(
        self, business_id: UUID, invoice_id: UUID, intent_id: str, amount: int, livemode: bool
    ) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.app.record_payment_request(
                business_id,
                invoice_id,
                provider=PROVIDER,
                payment_intent_id=intent_id,
                amount_cents=amount,
                livemode=livemode,
            )
        )

    async def _note_attempt(self, invoice_id: UUID, backoff: float, error: str | None) -> None:
        await self.pool.execute(_sql("note_payment_request_attempt"), invoice_id, backoff, error)

    # -- webhooks ------------------------------------------------------------------------------

    async def settle_webhooks(self) -> int:
        rows = await self.pool.fetch(_sql("received_webhooks"), self.batch)
        for row in rows:
            event = parse_event(msgspec.json.encode(_json(row["payload"])))
            try:
                settlement = await self.settle(event)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                raise  # the database or the network: the loop starts over, the event stays
            except Exception as exc:
                log.exception("stripe event could not be settled", event_id=event.id)
                settlement = Settlement("needs_attention", f"error: {type(exc).__name__}: {exc}")
            await self.pool.execute(
                _sql("settle_webhook"),
                event.id,
                settlement.status,
                settlement.outcome,
                settlement.business_id,
                settlement.invoice_id,
            )
            if settlement.status == "needs_attention":
                log.warning(
                    "stripe event needs attention",
                    event_id=event.id,
                    type=event.type,
                    payment_intent=event.payment_intent_id,
                    outcome=settlement.outcome,
                )
        return len(rows)

    async def settle(self, event: WebhookEvent) -> Settlement:
        if event.type != "payment_intent.succeeded":
            return Settlement("ignored", f"{event.type}: nothing to do")
        return await anyio.to_thread.run_sync(lambda: self._apply_payment(event))

    def _apply_payment(self, event: WebhookEvent) -> Settlement:
        intent = event.object
        metadata = intent.get("metadata") or {}
        try:
            invoice_id = UUID(str(metadata["invoice_id"]))
            business_id = UUID(str(metadata["business_id"]))
        except (KeyError, ValueError, TypeError):
            return Settlement(
                "needs_attention",
                "the PaymentIntent names no FastFaktura invoice "
                "(metadata invoice_id and business_id): payment not applied",
            )

        def attention(reason: str) -> Settlement:
            return Settlement("needs_attention", reason, business_id, invoice_id)

        try:
            invoice = self.app.get(Invoice, invoice_id, business_id)
            business = self.app.get(Business, business_id)
        except NotFoundError:
            return Settlement(
                "needs_attention", "no such invoice for this business: payment not applied"
            )
        if event.livemode != (business.mode == "live"):
            made = "live" if event.livemode else "test"
            return attention(f"a {made}-mode payment for a {business.mode} business: not applied")
        currency = str(intent.get("currency") or "").upper()
        if currency != invoice.currency:
            return attention(
                f"paid in {currency or 'no currency'}, the invoice is in {invoice.currency}: "
                "not applied"
            )
        amount = intent.get("amount_received") or intent.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            return attention("the PaymentIntent carries no amount received: not applied")
        paid_at = datetime.fromtimestamp(event.created, UTC)
        payment_intent_id = str(intent["id"])
        try:
            written = self.app.record_card_payment(
                business_id,
                invoice_id,
                payment_intent_id=payment_intent_id,
                amount_cents=amount,
                paid_at=paid_at,
            )
        except InvoiceStateError as exc:
            return attention(f"{exc}: payment kept, not applied (refund it, or settle by hand)")
        except InvalidInputError as exc:
            detail = "; ".join(f"{e.field} {e.message}" for e in exc.errors)
            return attention(f"{detail}: payment kept, not applied (refund the difference)")
        if not written.value:
            return Settlement(
                "applied",
                f"already recorded (PaymentIntent {payment_intent_id})",
                business_id,
                invoice_id,
            )
        return Settlement(
            "applied",
            f"recorded a card payment of {amount} cents (PaymentIntent {payment_intent_id})",
            business_id,
            invoice_id,
        )


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value
