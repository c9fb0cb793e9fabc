"""The card payment request's state machine, alone (domain/payment_request.py)."""

from __future__ import annotations

import pytest

from fastfaktura.domain.payment_request import (
    PaymentRequest,
    ProviderAction,
    RequestStatus,
    next_action,
    payable_intent,
)

OPEN = PaymentRequest.requested("stripe", "pi_1", 1000)


def test_transitions_from_requested() -> None:
    assert (OPEN.status, OPEN.is_open, OPEN.is_open_for("pi_1")) == (
        RequestStatus.REQUESTED,
        True,
        True,
    )
    assert not OPEN.is_open_for("pi_2")
    assert OPEN.updated(400) == PaymentRequest("stripe", RequestStatus.REQUESTED, "pi_1", 400)
    closed = OPEN.closed("cancelled")
    assert (closed.status, closed.error, closed.amount_cents) == (
        RequestStatus.CLOSED,
        "cancelled",
        1000,
    )
    assert not closed.is_open_for("pi_1")


@pytest.mark.parametrize(
    "final", [OPEN.closed("gone"), PaymentRequest.failed("stripe", "amount too small")]
)
def test_a_closed_or_failed_request_changes_no_more(final: PaymentRequest) -> None:
    with pytest.raises(ValueError, match="payment request"):
        final.updated(1)
    with pytest.raises(ValueError, match="payment request"):
        final.closed("again")
    assert next_action(final, 500, set()) is None
    assert payable_intent(final, 500) is None


@pytest.mark.parametrize(
    ("request_", "due", "paid", "action"),
    [
        (None, 1000, set(), ProviderAction.CREATE),
        (None, 0, set(), None),
        (OPEN, 1000, set(), None),
        (OPEN, 400, set(), ProviderAction.UPDATE),
        (OPEN, 0, set(), ProviderAction.CLOSE),
        (OPEN, 0, {"pi_1"}, None),  # consumed by its own payment
        (OPEN, 400, {"pi_1"}, None),
    ],
)
def test_what_the_provider_is_asked_to_do(
    request_: PaymentRequest | None, due: int, paid: set[str], action: ProviderAction | None
) -> None:
    assert next_action(request_, due, paid) is action


def test_only_an_open_request_with_money_due_is_payable() -> None:
    assert payable_intent(None, 1000) is None
    assert payable_intent(OPEN, 1) == "pi_1"
    assert payable_intent(OPEN, 0) is None
