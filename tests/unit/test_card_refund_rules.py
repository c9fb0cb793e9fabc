"""A card refund is recorded once per provider refund id, also on an aggregate rebuilt from its
events (the payments worker's retry after a crash relies on it); never above the refund due."""

from __future__ import annotations

from uuid import uuid4

import pytest

from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.errors import RefundAboveDue


def owing(refund_due_cents: int) -> CreditNote:
    return CreditNote(
        business_id=uuid4(),
        invoice_id=uuid4(),
        invoice_number="F2026-00001",
        invoice_issue_date="2026-12-01",
        client_id=uuid4(),
        number="A2026-00001",
        currency="EUR",
        issue_date="2026-12-06",
        reason="Returned",
        lines=[],
        subtotal_cents=10000,
        tax_cents=2000,
        total_cents=12000,
        tax_breakdown=[],
        refund_due_cents=refund_due_cents,
        public_token="t",
        seller={},
        buyer={},
    )


def test_a_card_refund_is_recorded_once_per_refund_id() -> None:
    note = owing(12000)
    assert note.record_card_refund("re_1", 7000, "2026-12-06T10:00:00+00:00") is True
    assert note.record_card_refund("re_1", 7000, "2026-12-06T10:00:00+00:00") is False
    assert note.refund_due_cents == 5000

    # Rebuilt from its events (as the worker loads it after a restart): still known.
    rebuilt = None
    for domain_event in note.collect_events():
        rebuilt = domain_event.mutate(rebuilt)
    assert isinstance(rebuilt, CreditNote)
    assert rebuilt.record_card_refund("re_1", 7000, "2026-12-06T10:00:00+00:00") is False
    assert rebuilt.record_card_refund("re_2", 5000, "2026-12-06T10:01:00+00:00") is True
    assert rebuilt.refund_due_cents == 0


def test_a_card_refund_above_the_refund_due_is_refused() -> None:
    note = owing(3000)
    with pytest.raises(RefundAboveDue):
        note.record_card_refund("re_1", 3001, "2026-12-06T10:00:00+00:00")
    assert note.refund_due_cents == 3000


def test_a_refund_by_hand_with_a_reference_is_not_taken_for_a_card_refund() -> None:
    note = owing(3000)
    note.record_refund(1000, "bank_transfer", "2026-12-06T10:00:00+00:00", "re_1")
    assert note.record_card_refund("re_1", 1000, "2026-12-06T10:00:00+00:00") is True
    assert note.refund_due_cents == 1000
