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

The intent then follows the invoice: a payment recorded by other means (a bank transfer)
updates its amount to what is due (`payment_request_updated`); an invoice paid by other means
or cancelled has its intent cancelled at Stripe (`payment_request_closed`), so that a page left
open can take no money. An intent Stripe will not change any more (paid or cancelled there
meanwhile) is recorded as closed too; a payment it took arrives as a webhook like any other.

Refunds. A credit note owing money back on an invoice paid by card is refunded at Stripe,
exactly once (policies/card_refunds.py).

Webhooks. Each verified event, kept once per Stripe event id, is settled once:
`payment_intent.succeeded` becomes `payment_recorded` (and `paid`), once per PaymentIntent;
what cannot be applied (an unknown invoice, a cancelled one, another currency, more than is
due, the wrong mode) is kept as `needs_attention` with the reason, logged, and listed by
`fastfaktura payments inbox`; other event types are kept as `ignored`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import anyio.to_thread
import asyncpg
import msgspec
import structlog
from eventsourcing import persistence

from fastfaktura.adapters.stripe_gateway import (
    PROVIDER,
    PaymentProviderError,
    StripeGateway,
    WebhookEvent,
    parse_event,
)
from fastfaktura.adapters.stripe_inbox import inbox_sql
from fastfaktura.application import Invoicing, Written
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import ConflictError, NotFoundError, PaymentOutsideAmountDue
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.policies.card_refunds import CardRefunds
from fastfaktura.policies.loop import LockedWorker
from fastfaktura.readmodels.models import READ_MODELS
from fastfaktura.readmodels.queries.common import standard_uuid
from fastfaktura.readmodels.queries.positions import PositionWatcher

log = structlog.get_logger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
# While the read model still shows an invoice as pending after its request was recorded.
READ_MODEL_LAG_BACKOFF_SECONDS = 1.0
# How long the worker waits for the read models to show what it recorded.
READ_MODEL_WAIT_SECONDS = 5.0


# The database or the network failing (either side: asyncpg here, psycopg under the event
# store): worth trying again as it is, never a verdict.
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)


def _sql(name: str) -> str:
    return inbox_sql(name)


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


def _intent_id(invoice: Invoice) -> str:
    assert invoice.payment_request is not None
    return str(invoice.payment_request.payment_intent_id)


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
    _watcher: PositionWatcher = field(init=False)
    refunds: CardRefunds = field(init=False)

    def __post_init__(self) -> None:
        self._watcher = PositionWatcher(self.pool, READ_MODELS)
        self.refunds = CardRefunds(self.pool, self.app, self.gateway, self._watcher, self.batch)

    async def run_once(self) -> int:
        # Payments first: a credit note's card refund needs the card payment recorded.
        handled = await self.settle_webhooks() + await self.request_payments()
        return handled + await self.refunds.run_once()

    # -- PaymentIntents ------------------------------------------------------------------------

    async def request_payments(self) -> int:
        modes = list(self.gateway.settings.modes)
        if not modes:
            return 0
        rows = await self.pool.fetch(_sql("due_payment_requests"), modes, self.batch)
        for row in rows:
            invoice_id = standard_uuid(row["id"])
            try:
                await self._request(standard_uuid(row["business_id"]), invoice_id, row)
            except TRANSIENT:
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
        action = invoice.payment_request_action
        if action is None:
            # Done already (recorded, paid, cancelled): the read model has not caught up yet.
            await self._note_attempt(invoice_id, READ_MODEL_LAG_BACKOFF_SECONDS, None)
            return
        mode: str = row["mode"]
        try:
            if action == "create":
                await self._create(mode, invoice)
            elif action == "update":
                await self._update(mode, invoice)
            else:
                await self._close(mode, invoice)
        except PaymentProviderError as exc:
            if not exc.permanent:
                backoff = min(float(2 ** (row["attempts"] + 1)), MAX_BACKOFF_SECONDS)
                log.warning(
                    "payment request call failed; will retry",
                    invoice_id=str(invoice_id),
                    action=action,
                    attempt=row["attempts"] + 1,
                    backoff=backoff,
                    error=str(exc),
                )
                await self._note_attempt(invoice_id, backoff, str(exc))
                return
            await self._refused(invoice, action, str(exc))
        # Done: a later action on this invoice (an update, a close) starts without backoff.
        await self.pool.execute(_sql("forget_payment_request_attempts"), invoice_id)

    async def _refused(self, invoice: Invoice, action: str, error: str) -> None:
        """Stripe refused the call itself: trying again cannot help."""
        if action == "create":
            log.warning("payment request refused", invoice_id=str(invoice.id), error=error)
            await self._call(
                lambda: self.app.record_payment_request_failed(
                    invoice.business_id, invoice.id, provider=PROVIDER, error=error
                )
            )
            return
        # Stripe will not cancel this intent: it was paid or cancelled meanwhile, at Stripe.
        # It takes no more money from here on; a payment it took reaches us as a webhook,
        # like any other.
        await self._closed(invoice, f"{action} refused: {error}")

    async def _create(self, mode: str, invoice: Invoice) -> None:
        amount = invoice.amount_due_cents
        intent = await self.gateway.create_payment_intent(
            mode,
            amount_cents=amount,
            currency=invoice.currency,
            metadata={
                "invoice_id": str(invoice.id),
                "business_id": str(invoice.business_id),
                "invoice_number": invoice.number,
            },
            idempotency_key=payment_intent_key(invoice.id, amount),
        )
        await self._record_request(
            invoice.business_id, invoice.id, intent.id, intent.amount_cents, intent.livemode
        )
        log.info("payment requested", invoice_id=str(invoice.id), payment_intent=intent.id)

    async def _update(self, mode: str, invoice: Invoice) -> None:
        """A payment was recorded by other means: the intent asks for what is due now."""
        intent_id, amount = _intent_id(invoice), invoice.amount_due_cents
        try:
            await self.gateway.update_payment_intent_amount(
                mode,
                intent_id,
                amount_cents=amount,
                idempotency_key=f"{payment_intent_key(invoice.id, amount)}:update:{intent_id}",
            )
        except PaymentProviderError as exc:
            if not exc.permanent:
                raise
            # Stripe will not ask for this amount (below its minimum charge, or the intent was
            # paid or cancelled there meanwhile): the old amount must not be taken either.
            await self._close(mode, invoice, why=f"update refused: {exc}")
            return
        await self._call(
            lambda: self.app.record_payment_request_update(
                invoice.business_id, invoice.id, payment_intent_id=intent_id, amount_cents=amount
            )
        )
        log.info("payment request updated", invoice_id=str(invoice.id), amount=amount)

    async def _close(self, mode: str, invoice: Invoice, why: str | None = None) -> None:
        """Cancel the intent, so that it can take no money: nothing is due any more (or what
        is due cannot be asked for)."""
        intent_id = _intent_id(invoice)
        intent = await self.gateway.cancel_payment_intent(
            mode, intent_id, idempotency_key=f"fastfaktura:payment-intent:{intent_id}:cancel"
        )
        why = why or f"the invoice is {invoice.status}"
        await self._closed(invoice, f"{why}: cancelled at Stripe ({intent.status})")

    async def _closed(self, invoice: Invoice, reason: str) -> None:
        intent_id = _intent_id(invoice)
        await self._call(
            lambda: self.app.record_payment_request_closed(
                invoice.business_id, invoice.id, payment_intent_id=intent_id, reason=reason
            )
        )
        log.info("payment request closed", invoice_id=str(invoice.id), reason=reason)

    async def _call(self, command: Callable[[], Written[Any]]) -> None:
        """Record through the application, then wait (bounded) until the read models show it:
        the next look at the to-do list must not find the work just done."""
        written = await anyio.to_thread.run_sync(command)
        await self._watcher.wait(written.recorded, READ_MODEL_WAIT_SECONDS)

    async def _record_request(
        self, business_id: UUID, invoice_id: UUID, intent_id: str, amount: int, livemode: bool
    ) -> None:
        await self._call(
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
            except TRANSIENT:
                raise  # the database or the network: the loop starts over, the event stays
            except ConflictError:
                # Writers raced on the invoice past every retry: the event stays, for later.
                log.warning("stripe event deferred: the invoice is busy", event_id=event.id)
                continue
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
        except PaymentOutsideAmountDue as exc:
            return attention(f"{exc}: payment kept, not applied (refund the difference)")
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
