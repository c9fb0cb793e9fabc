"""The card payment request of an invoice (a Stripe PaymentIntent), as a small state machine.

    (none) --requested--> REQUESTED --updated(amount)--> REQUESTED
    (none) --failed-----> FAILED        REQUESTED --closed(reason)--> CLOSED

Pure values: the Invoice aggregate keeps one (or None) and replaces it on each of its
`PaymentRequest*` events, whose stored shape this module does not change.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, replace
from enum import StrEnum


class RequestStatus(StrEnum):
    REQUESTED = "requested"  # the intent exists and may take money
    FAILED = "failed"  # the provider refused it for good: no card payment offered
    CLOSED = "closed"  # cancelled at the provider, or found closed: takes no money


class ProviderAction(StrEnum):
    """What the payments worker has to do at the provider for an invoice."""

    CREATE = "create"  # money due, no request made (or refused) yet
    UPDATE = "update"  # the intent asks for another amount than what is due now
    CLOSE = "close"  # nothing is due any more: the intent must not take money


@dataclass(frozen=True)
class PaymentRequest:
    provider: str
    status: RequestStatus
    payment_intent_id: str | None
    amount_cents: int | None
    error: str | None = None

    @classmethod
    def requested(cls, provider: str, payment_intent_id: str, amount_cents: int) -> PaymentRequest:
        return cls(provider, RequestStatus.REQUESTED, payment_intent_id, amount_cents)

    @classmethod
    def failed(cls, provider: str, error: str) -> PaymentRequest:
        return cls(provider, RequestStatus.FAILED, None, None, error)

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.REQUESTED

    def is_open_for(self, payment_intent_id: str) -> bool:
        return self.is_open and self.payment_intent_id == payment_intent_id

    def updated(self, amount_cents: int) -> PaymentRequest:
        if not self.is_open:
            raise ValueError(f"a {self.status} payment request cannot change its amount")
        return replace(self, amount_cents=amount_cents)

    def closed(self, reason: str) -> PaymentRequest:
        if not self.is_open:
            raise ValueError(f"a {self.status} payment request cannot be closed")
        return replace(self, status=RequestStatus.CLOSED, error=reason)


def next_action(
    request: PaymentRequest | None, amount_due_cents: int, paid_intents: Set[str]
) -> ProviderAction | None:
    """What is to be done at the provider, given what is due now (0: nothing, or not payable).

    An intent whose payment was recorded is consumed: nothing more to do with it."""
    if request is None:
        return ProviderAction.CREATE if amount_due_cents > 0 else None
    if not request.is_open or request.payment_intent_id in paid_intents:
        return None
    if amount_due_cents <= 0:
        return ProviderAction.CLOSE
    return ProviderAction.UPDATE if request.amount_cents != amount_due_cents else None


def payable_intent(request: PaymentRequest | None, amount_due_cents: int) -> str | None:
    """The intent a client may pay now: money is due and the request is open."""
    if request is None or not request.is_open or amount_due_cents <= 0:
        return None
    return request.payment_intent_id


def is_open_for(request: PaymentRequest | None, payment_intent_id: str) -> bool:
    """The invoice's request is open and is this intent: news of another intent records nothing."""
    return request is not None and request.is_open_for(payment_intent_id)


def changes_amount(request: PaymentRequest | None, payment_intent_id: str, amount: int) -> bool:
    """The intent now asks for another amount than the open request recorded."""
    if request is None or not request.is_open_for(payment_intent_id):
        return False
    return request.amount_cents != amount
