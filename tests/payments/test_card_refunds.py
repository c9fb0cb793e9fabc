"""Card refunds of credit notes through Stripe (issue 13, docs/payments.md "Refunds"), against a
real local Stripe-compatible server (localstripe, which refuses a refund above what is left of
a charge as Stripe does: stripe_server.py) and the real PostgreSQL.

A credit note owing money back on an invoice paid by card is refunded at Stripe by the payments
worker, split across the card payments, never above what each was paid, and recorded once:
however often the worker runs, and when it stops between the Stripe call and the record.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import pytest

from fastfaktura.adapters.stripe_gateway import RefundInfo, StripeGateway
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.event_reader import event_reader
from fastfaktura.policies.card_refunds import CardRefunds, card_refund_key
from fastfaktura.policies.payments import PaymentWorker
from fastfaktura.readmodels.audit import compare
from fastfaktura.readmodels.models import READ_MODELS
from tests.helpers import run_cli
from tests.invoicing_support import INVOICES, get_json
from tests.payments.conftest import stripe_settings
from tests.payments.support import TOTAL, Shop

CREDIT_NOTES = "/api/v1/credit_notes"


class SimulatedCrash(BaseException):
    """The process dies between Stripe's answer and the record (nothing handles it)."""


class CrashingRefunds(CardRefunds):
    async def _record(self, note: CreditNote, refund: RefundInfo) -> int:
        raise SimulatedCrash


def worker_with(shop: Shop, gateway: StripeGateway | None = None) -> PaymentWorker:
    """Another payments worker on the same database (a restart, or other Stripe settings)."""
    return PaymentWorker(shop.worker.pool, shop.worker.app, gateway or shop.worker.gateway)


async def credit(shop: Shop, invoice_id: str, **body: Any) -> dict[str, Any]:
    response = await shop.client.post(
        f"{INVOICES}/{invoice_id}/credit_notes",
        headers=shop.account.headers,
        json={"reason": "Order returned", **body},
    )
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


async def note_of(shop: Shop, note_id: str) -> dict[str, Any]:
    return await get_json(shop.client, shop.account, f"{CREDIT_NOTES}/{note_id}")  # type: ignore[arg-type]


async def refunds_recorded(shop: Shop, note_id: str) -> list[dict[str, Any]]:
    body = await get_json(shop.client, shop.account, f"{CREDIT_NOTES}/{note_id}/events")  # type: ignore[arg-type]
    return [e["data"] for e in body["data"] if e["type"] == "refund_recorded"]


async def card_refund_row(shop: Shop, note_id: str) -> Any:
    return await shop.worker.pool.fetchrow(
        "SELECT * FROM card_refunds WHERE credit_note_id = $1", UUID(note_id)
    )


def audit_agrees(shop: Shop, *, as_an_operator: bool = False) -> None:
    """What `audit replay` checks (in process), or that very command (a slower subprocess)."""
    business_id = shop.account.business_id
    if as_an_operator:
        done = run_cli(shop.url, "audit", "replay", "--business", str(business_id))
        assert done.returncode == 0, done.stdout + done.stderr
        return
    reader = event_reader(shop.worker.app)
    for model in READ_MODELS:
        assert compare(reader, shop.url, model, business_id=business_id) == [], model.name


async def card_paid(shop: Shop) -> tuple[dict[str, Any], str]:
    invoice, intent_id = await shop.requested()
    await shop.paid_by_card(intent_id)
    assert await shop.state(invoice["id"]) == ("paid", TOTAL, 0)
    return invoice, intent_id


async def test_a_credit_note_on_a_card_paid_invoice_is_refunded_at_stripe_once(
    shop: Shop,
) -> None:
    invoice, intent_id = await card_paid(shop)
    note = await credit(shop, invoice["id"])
    assert note["refund_due_cents"] == TOTAL

    await shop.drain()
    (refund,) = await shop.refunds_for(intent_id)
    assert (refund["amount"], refund["status"]) == (TOTAL, "succeeded")
    assert refund["metadata"]["credit_note_id"] == note["id"]
    assert (await note_of(shop, note["id"]))["refund_due_cents"] == 0
    (recorded,) = await refunds_recorded(shop, note["id"])
    assert (recorded["amount_cents"], recorded["method"]) == (TOTAL, "card")
    assert recorded["reference"] == refund["id"]
    row = await card_refund_row(shop, note["id"])
    assert row["status"] == "done"
    assert f"refunded {TOTAL} cents" in row["outcome"]

    # The worker again, and a restarted one: nothing more at Stripe, nothing more recorded.
    await shop.drain()
    await shop.drain(worker_with(shop))
    assert len(await shop.refunds_for(intent_id)) == 1
    assert len(await refunds_recorded(shop, note["id"])) == 1
    audit_agrees(shop)


async def test_a_crash_between_the_stripe_refund_and_its_record_records_it_once(
    shop: Shop,
) -> None:
    invoice, intent_id = await card_paid(shop)
    note = await credit(shop, invoice["id"])
    crashing = worker_with(shop)
    crashing.refunds = CrashingRefunds(
        crashing.pool, crashing.app, crashing.gateway, crashing._watcher
    )
    with pytest.raises(SimulatedCrash):
        await crashing.run_once()
    (made,) = await shop.refunds_for(intent_id)
    assert await refunds_recorded(shop, note["id"]) == []

    # The restarted worker finds the refund at Stripe and records it; it refunds nothing more.
    await shop.drain(worker_with(shop))
    await shop.drain(worker_with(shop))
    assert [r["id"] for r in await shop.refunds_for(intent_id)] == [made["id"]]
    (recorded,) = await refunds_recorded(shop, note["id"])
    assert (recorded["reference"], recorded["amount_cents"]) == (made["id"], TOTAL)
    assert (await note_of(shop, note["id"]))["refund_due_cents"] == 0
    audit_agrees(shop)


async def test_the_retry_gets_the_same_refund_from_its_idempotency_key(shop: Shop) -> None:
    """Were the refund not listed at Stripe yet when the worker restarts, asking again with the
    same idempotency key answers the same refund, and it is recorded once."""

    class UnlistedRefunds(StripeGateway):
        async def refunds_of(self, mode: str, payment_intent_id: str) -> list[RefundInfo]:
            return []

    invoice, intent_id = await card_paid(shop)
    note = await credit(shop, invoice["id"])
    crashing = worker_with(shop)
    crashing.refunds = CrashingRefunds(
        crashing.pool, crashing.app, crashing.gateway, crashing._watcher
    )
    with pytest.raises(SimulatedCrash):
        await crashing.run_once()
    (made,) = await shop.refunds_for(intent_id)

    await shop.drain(worker_with(shop, UnlistedRefunds(shop.worker.gateway.settings)))
    assert [r["id"] for r in await shop.refunds_for(intent_id)] == [made["id"]]
    (recorded,) = await refunds_recorded(shop, note["id"])
    assert recorded["reference"] == made["id"]


async def test_the_idempotency_key_is_derived_from_the_credit_note_payment_and_amount() -> None:
    note_id = uuid4()
    key = card_refund_key(note_id, "pi_1", 500)
    assert key == card_refund_key(note_id, "pi_1", 500)
    assert str(note_id) in key
    assert "pi_1" in key
    assert key != card_refund_key(note_id, "pi_2", 500)
    assert key != card_refund_key(uuid4(), "pi_1", 500)


async def test_the_refund_is_split_across_card_payments_never_above_each(shop: Shop) -> None:
    invoice, first = await shop.requested()
    # A second PaymentIntent for part of the invoice (as one made for it elsewhere), paid first.
    second = await shop.stripe.v1.payment_intents.create_async(
        {
            "amount": 5000,
            "currency": "eur",
            "metadata": {
                "invoice_id": invoice["id"],
                "business_id": str(shop.account.business_id),
            },
        }
    )
    await shop.paid_by_card(second.id)
    # The worker (once the read models show that payment) asks the first intent for the rest;
    # the client pays it.
    await shop.drain()
    assert (await shop.intent(first)).amount == TOTAL - 5000
    await shop.paid_by_card(first)
    assert await shop.state(invoice["id"]) == ("paid", TOTAL, 0)

    partial = await credit(
        shop,
        invoice["id"],
        lines=[
            {"description": "Returned", "quantity": 1, "unit_price_cents": 2500, "tax_rate": 20}
        ],
    )
    assert partial["refund_due_cents"] == 3000
    await shop.drain()
    rest = await credit(shop, invoice["id"])
    assert rest["refund_due_cents"] == TOTAL - 3000
    await shop.drain()

    refunded = {
        pi: sum(r["amount"] for r in await shop.refunds_for(pi)) for pi in (first, second.id)
    }
    assert refunded == {first: TOTAL - 5000, second.id: 5000}
    for note in (partial, rest):
        assert (await note_of(shop, note["id"]))["refund_due_cents"] == 0
    recorded = [r for n in (partial, rest) for r in await refunds_recorded(shop, n["id"])]
    assert sum(r["amount_cents"] for r in recorded) == TOTAL
    assert all(r["method"] == "card" and r["reference"].startswith("re_") for r in recorded)
    audit_agrees(shop, as_an_operator=True)


async def test_what_a_bank_transfer_paid_stays_due_for_a_refund_by_hand(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    await shop.record_payment(invoice["id"], 4000)
    await shop.drain()  # the intent now asks for the rest
    await shop.paid_by_card(intent_id)
    note = await credit(shop, invoice["id"])
    await shop.drain()

    (refund,) = await shop.refunds_for(intent_id)
    assert refund["amount"] == TOTAL - 4000
    assert (await note_of(shop, note["id"]))["refund_due_cents"] == 4000
    row = await card_refund_row(shop, note["id"])
    assert row["status"] == "done"
    assert "4000 cents left due" in row["outcome"]

    # The rest is refunded by bank and recorded by hand, as before.
    response = await shop.client.post(
        f"{CREDIT_NOTES}/{note['id']}/refunds",
        headers=shop.account.headers,
        json={"amount_cents": 4000, "method": "bank_transfer", "reference": "SEPA back"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["refund_due_cents"] == 0
    await shop.drain()
    assert len(await shop.refunds_for(intent_id)) == 1
    audit_agrees(shop)


async def test_a_stripe_outage_is_retried_with_backoff_and_records_nothing(shop: Shop) -> None:
    invoice, intent_id = await card_paid(shop)
    note = await credit(shop, invoice["id"])
    down = StripeGateway(stripe_settings("http://127.0.0.1:9"), timeout_seconds=1)
    assert await worker_with(shop, down).run_once() >= 1
    row = await card_refund_row(shop, note["id"])
    assert (row["status"], row["attempts"]) == ("retrying", 1)
    assert "Stripe" in row["outcome"]
    later = await shop.worker.pool.fetchval(
        "SELECT next_attempt_at > now() FROM card_refunds WHERE credit_note_id = $1",
        UUID(note["id"]),
    )
    assert later is True  # backing off: not tried again at once
    assert await refunds_recorded(shop, note["id"]) == []
    assert (await note_of(shop, note["id"]))["refund_due_cents"] == TOTAL

    # Later (the backoff is made to pass here), with Stripe back: refunded, once.
    await shop.worker.pool.execute(
        "UPDATE card_refunds SET next_attempt_at = now() WHERE credit_note_id = $1",
        UUID(note["id"]),
    )
    await shop.drain()
    assert [r["amount"] for r in await shop.refunds_for(intent_id)] == [TOTAL]
    assert (await card_refund_row(shop, note["id"]))["status"] == "done"


async def test_a_refund_recorded_by_hand_meanwhile_is_reported_not_recorded_twice(
    shop: Shop,
) -> None:
    """The worker stops after Stripe refunded; someone records a refund by hand before it
    restarts: the money went back twice, which the worker reports instead of hiding."""
    invoice, intent_id = await card_paid(shop)
    note = await credit(shop, invoice["id"])
    crashing = worker_with(shop)
    crashing.refunds = CrashingRefunds(
        crashing.pool, crashing.app, crashing.gateway, crashing._watcher
    )
    with pytest.raises(SimulatedCrash):
        await crashing.run_once()
    (made,) = await shop.refunds_for(intent_id)
    response = await shop.client.post(
        f"{CREDIT_NOTES}/{note['id']}/refunds",
        headers=shop.account.headers,
        json={"amount_cents": TOTAL, "method": "bank_transfer"},
    )
    assert response.status_code == 201, response.text

    await shop.drain(worker_with(shop))
    row = await card_refund_row(shop, note["id"])
    assert row["status"] == "needs_attention"
    assert made["id"] in row["outcome"]
    assert len(await refunds_recorded(shop, note["id"])) == 1  # the one by hand
    listed = run_cli(shop.url, "payments", "refunds", "--json")
    assert listed.returncode == 1  # a monitor can alert on it
    (row_listed,) = [r for r in json.loads(listed.stdout) if r["credit_note_id"] == note["id"]]
    assert row_listed["status"] == "needs_attention"
    table = run_cli(shop.url, "payments", "refunds")
    assert table.returncode == 1
    assert note["id"] in table.stdout
    assert "need attention" in table.stderr
    audit_agrees(shop)
