"""Card refunds, a part of the payments worker (docs/payments.md "Refunds").

A credit note that owes money back (`refund_due_cents > 0`) on an invoice paid by card is
refunded at Stripe automatically, in sandbox (test key) and live alike: against each card
payment of the invoice (its PaymentIntent) in turn, never more than Stripe shows as not yet
refunded of that payment, until the refund due is covered; each Stripe refund is recorded as
`refund_recorded` (method `card`, reference the Stripe refund id). What card payments cannot
cover (part of the invoice was paid by bank transfer) stays due, for a refund recorded by hand.

Exactly once: every refund carries the credit note's id in its metadata and an idempotency key
derived from the credit note, the PaymentIntent and the amount. Before refunding anything, the
worker looks at Stripe for refunds of this credit note it has not recorded yet (a crash between
the Stripe call and the record) and records those first; a retry that still asks Stripe gets
the same refund back through the key; the record itself is idempotent on the refund id.

Failures: a network error, a rate limit or Stripe's own failure is retried with exponential
backoff (`card_refunds.status = retrying`, with the error); Stripe refusing the refund, a
refund that failed at Stripe, or a refund the credit note no longer owes (one was recorded by
hand meanwhile) is `needs_attention`, logged and listed by `fastfaktura payments refunds`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import anyio.to_thread
import asyncpg
import structlog
from eventsourcing import persistence
from eventsourcing.domain import Aggregate

from fastfaktura.adapters.stripe_gateway import PaymentProviderError, RefundInfo, StripeGateway
from fastfaktura.adapters.stripe_inbox import inbox_sql
from fastfaktura.application import Invoicing, Written
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.errors import RefundAboveDue
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels.queries.common import standard_uuid
from fastfaktura.readmodels.queries.positions import PositionWatcher

log = structlog.get_logger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
READ_MODEL_WAIT_SECONDS = 5.0
A = TypeVar("A", bound=Aggregate)
# The database or the network failing: the worker's loop starts over (as in payments.py).
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)


def card_refund_key(credit_note_id: UUID, payment_intent_id: str, amount_cents: int) -> str:
    """The idempotency key of one Stripe refund: the same credit note refunding the same amount
    of the same payment is the same refund."""
    return f"fastfaktura:credit-note:{credit_note_id}:refund:{payment_intent_id}:{amount_cents}"


class NeedsAttention(Exception):
    """Trying again cannot help: an operator has to look (the message says why)."""


@dataclass
class CardRefunds:
    pool: asyncpg.Pool
    app: Invoicing
    gateway: StripeGateway
    watcher: PositionWatcher
    batch: int = 20

    async def run_once(self) -> int:
        modes = list(self.gateway.settings.modes)
        if not modes:
            return 0
        rows = await self.pool.fetch(inbox_sql("due_card_refunds"), modes, self.batch)
        for row in rows:
            business_id, note_id = standard_uuid(row["business_id"]), standard_uuid(row["id"])
            try:
                outcome = await self.refund(row["mode"], business_id, note_id)
            except PaymentProviderError as exc:
                if exc.permanent:
                    await self._settle(business_id, note_id, "needs_attention", str(exc))
                else:
                    await self._retry_later(business_id, note_id, row["attempts"], str(exc))
                continue
            except NeedsAttention as exc:
                await self._settle(business_id, note_id, "needs_attention", str(exc))
                continue
            except TRANSIENT:
                raise  # the database or the network: the loop starts over
            except Exception as exc:
                log.exception("card refund failed", credit_note_id=str(note_id))
                error = f"{type(exc).__name__}: {exc}"
                await self._retry_later(business_id, note_id, row["attempts"], error)
                continue
            await self._settle(business_id, note_id, "done", outcome)
        return len(rows)

    async def refund(self, mode: str, business_id: UUID, note_id: UUID) -> str:
        """Refund what the credit note owes to the invoice's card payments; what was done."""
        note = await self._load(CreditNote, note_id, business_id)
        invoice = await self._load(Invoice, note.invoice_id, business_id)
        # A stable order, so that a retry splits the refund due as the first attempt did.
        intents = sorted(invoice.card_payment_references)
        at_stripe = {pi: await self.gateway.refunds_of(mode, pi) for pi in intents}
        refunded = 0
        # Refunds made for this credit note but never recorded (a crash): record them first.
        for refund in (r for refunds in at_stripe.values() for r in refunds):
            if refund.metadata.get("credit_note_id") == str(note_id) and refund.takes_money:
                refunded += await self._record(note, refund)
        due = (await self._load(CreditNote, note_id, business_id)).refund_due_cents
        for intent_id in intents:
            if due == 0:
                break
            paid = (await self.gateway.retrieve_payment_intent(mode, intent_id)).amount_cents
            taken_back = sum(r.amount_cents for r in at_stripe[intent_id] if r.takes_money)
            amount = min(due, paid - taken_back)
            if amount <= 0:
                continue
            await self.pool.execute(inbox_sql("note_card_refund_started"), note_id, business_id)
            refund = await self.gateway.create_refund(
                mode,
                intent_id,
                amount_cents=amount,
                metadata={
                    "credit_note_id": str(note_id),
                    "credit_note_number": note.number,
                    "invoice_id": str(invoice.id),
                    "business_id": str(business_id),
                },
                idempotency_key=card_refund_key(note_id, intent_id, amount),
            )
            if not refund.takes_money:
                raise NeedsAttention(f"Stripe refund {refund.id} is {refund.status}")
            refunded += await self._record(note, refund)
            due -= refund.amount_cents
        log.info("card refund done", credit_note_id=str(note_id), refunded=refunded, left=due)
        if due:
            return (
                f"refunded {refunded} cents by card; {due} cents left due "
                "(no card payment left to refund: record that refund by hand)"
            )
        return f"refunded {refunded} cents by card"

    async def _record(self, note: CreditNote, refund: RefundInfo) -> int:
        """Record the Stripe refund on the credit note, once; the cents this call recorded."""
        try:
            written = await self._call(
                lambda: self.app.record_card_refund(
                    note.business_id,
                    note.id,
                    refund_id=refund.id,
                    amount_cents=refund.amount_cents,
                    refunded_at=datetime.fromtimestamp(refund.created, UTC),
                )
            )
        except RefundAboveDue as exc:
            # Recorded by hand meanwhile: the money went back twice, or the record by hand
            # was this very refund. Only a person can tell.
            raise NeedsAttention(
                f"Stripe refund {refund.id} of {refund.amount_cents} cents was made, but the "
                f"credit note owes only {exc.refund_due_cents} cents now (a refund recorded by "
                "hand meanwhile?): not recorded"
            ) from exc
        return refund.amount_cents if written.value else 0

    async def _load(self, kind: type[A], aggregate_id: UUID, business_id: UUID) -> A:
        return await anyio.to_thread.run_sync(lambda: self.app.get(kind, aggregate_id, business_id))

    async def _call(self, command: Callable[[], Written[Any]]) -> Written[Any]:
        written = await anyio.to_thread.run_sync(command)
        await self.watcher.wait(written.recorded, READ_MODEL_WAIT_SECONDS)
        return written

    async def _retry_later(
        self, business_id: UUID, note_id: UUID, attempts: int, error: str
    ) -> None:
        backoff = min(float(2 ** (attempts + 1)), MAX_BACKOFF_SECONDS)
        log.warning(
            "card refund failed; will retry",
            credit_note_id=str(note_id),
            attempt=attempts + 1,
            backoff=backoff,
            error=error,
        )
        await self.pool.execute(
            inbox_sql("note_card_refund_attempt"), note_id, business_id, backoff, error
        )

    async def _settle(self, business_id: UUID, note_id: UUID, status: str, outcome: str) -> None:
        if status == "needs_attention":
            log.warning("card refund needs attention", credit_note_id=str(note_id), why=outcome)
        await self.pool.execute(
            inbox_sql("settle_card_refund"), note_id, business_id, status, outcome
        )
