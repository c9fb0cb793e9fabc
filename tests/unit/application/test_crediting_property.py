"""For any sequence of payments, credit notes, refunds and cancels (in memory), the invoice's
money adds up: what was paid, credited and is still due make the total, plus exactly what the
credit notes owe back; nothing due is ever negative, nothing is credited beyond the total,
and a refused command changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastfaktura.application import Invoicing
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.errors import ConflictError, RuleBroken, RulesBroken
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.pricing import InvoiceLine

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
RATES = ("0", "5.5", "20")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(min_value=1, max_value=130_000)),
        st.tuples(
            st.just("credit"), st.integers(min_value=1, max_value=110_000), st.sampled_from(RATES)
        ),
        st.tuples(st.just("credit_all")),
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=130_000)),
        st.tuples(st.just("cancel")),
    ),
    max_size=12,
)


def apply(
    app: Invoicing, business: UUID, invoice: UUID, op: tuple[Any, ...], notes: list[UUID]
) -> None:
    kind = op[0]
    if kind == "pay":
        app.record_payment(business, invoice, amount_cents=op[1], method="cash")
    elif kind == "credit":
        line = InvoiceLine("Credited", Decimal(1), op[1], Decimal(op[2]))
        notes.append(app.issue_credit_note(business, invoice, reason="r", lines=[line]).value.id)
    elif kind == "credit_all":
        notes.append(app.issue_credit_note(business, invoice, reason="all").value.id)
    elif kind == "refund" and notes:
        app.record_refund(business, notes[-1], amount_cents=op[1], method="cash")
    elif kind == "cancel":
        app.cancel_invoice(business, invoice, None)
        cancelled = list(app.events.get(invoice))[-1]
        if cancelled.credit_note_id is not None:  # an issued invoice: annulled by a credit note
            notes.append(cancelled.credit_note_id)


def state(app: Invoicing, invoice: UUID, notes: list[UUID]) -> tuple[Any, ...]:
    inv = app.repository.get(invoice)
    credit_notes = [app.repository.get(n) for n in notes]
    return (inv.version, tuple((n.id, n.version) for n in credit_notes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_paid_credited_and_due_always_make_the_total(ops: list[tuple[Any, ...]]) -> None:
    app = Invoicing(IN_MEMORY)
    business = app.register_business("Prop AS", "sandbox").value.business_id
    client = app.register_client(business, {"name": "Buyer"}).value.id
    lines = [
        InvoiceLine("A", Decimal("1.5"), 40_001, Decimal(20)),
        InvoiceLine("B", Decimal(3), 12_345, Decimal("5.5")),
    ]
    invoice = app.create_invoice(business, client_id=client, currency="EUR", lines=lines).value
    app.send_invoice(business, invoice.id, ["link"])
    notes: list[UUID] = []
    for op in ops:
        before = state(app, invoice.id, notes)
        try:
            apply(app, business, invoice.id, op, notes)
        except (RuleBroken, RulesBroken, ConflictError):
            assert state(app, invoice.id, notes) == before  # refused: nothing recorded

        inv = app.repository.get(invoice.id)
        assert isinstance(inv, Invoice)
        issued = [app.repository.get(n) for n in notes]
        assert all(isinstance(n, CreditNote) for n in issued)
        owed = sum(n.refund_owed_cents for n in issued)
        total = inv.total_cents
        assert inv.amount_due_cents >= 0
        assert 0 <= inv.amount_credited_cents <= total
        assert inv.amount_credited_cents == sum(n.total_cents for n in issued)
        assert (
            inv.amount_paid_cents + inv.amount_credited_cents + inv.amount_due_cents == total + owed
        )
        if inv.amount_paid_cents + inv.amount_credited_cents <= total:
            assert owed == 0  # the plain equation of API.md holds whenever nothing is owed back
        assert all(0 <= n.refund_due_cents <= n.refund_owed_cents for n in issued)
        if inv.amount_due_cents == 0:
            assert inv.status in ("paid", "cancelled")
        if inv.amount_credited_cents == total and inv.amount_paid_cents == 0:
            assert inv.status == "cancelled"
    app.close()
