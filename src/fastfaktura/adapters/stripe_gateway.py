"""The Stripe adapter: one `StripeClient` per business mode (never the global `stripe.api_key`),
every call pointed at `STRIPE_API_BASE` when it is set, and webhook signature checks.

Sandbox businesses use the test key, live ones the live key; a mode without its key offers no
card payment. Errors come back as `PaymentProviderError`, which says whether trying again can
help (a network error, a rate limit, Stripe's own failure, a key being rotated) or not (Stripe
refused the request itself: amount, currency, parameters).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import msgspec
import stripe

from fastfaktura.config import StripeSettings
from fastfaktura.jsonlimits import MAX_JSON_DEPTH, nested_too_deep

PROVIDER = "stripe"
# Stripe's default: a signature older than this is refused (replayed webhooks); one dated
# further than this in the future too (a clock that far ahead is no clock we trust).
SIGNATURE_TOLERANCE_SECONDS = 300
# `t=` of Stripe-Signature: Unix seconds in ASCII digits (Python's int() takes other digits too).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class PaymentProviderError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class WebhookRejected(Exception):
    """The webhook is not Stripe's (signature) or not a Stripe event (body): `field` says which."""

    def __init__(self, message: str, field: str = "Stripe-Signature") -> None:
        super().__init__(message)
        self.field = field


def signature_timestamp(signature: str) -> int | None:
    """The `t=` of a Stripe-Signature header, if it holds one timestamp in ASCII digits."""
    stamps = [
        value
        for key, _, value in (item.strip().partition("=") for item in signature.split(","))
        if key == "t"
    ]
    if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]):
        return None
    return int(stamps[0])


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    amount_cents: int
    currency: str  # upper case, as FastFaktura writes currencies
    status: str
    client_secret: str | None
    livemode: bool
    metadata: dict[str, str]


@dataclass(frozen=True)
class RefundInfo:
    id: str
    payment_intent_id: str | None
    amount_cents: int
    status: str  # pending | requires_action | succeeded | failed | canceled
    created: int  # Unix seconds
    metadata: dict[str, str]

    @property
    def takes_money(self) -> bool:
        """Money went back (or is on its way): a failed or cancelled refund gave nothing."""
        return self.status not in ("failed", "canceled")


def _refund_info(resource: stripe.Refund) -> RefundInfo:
    refund: dict[str, Any] = resource.to_dict()
    return RefundInfo(
        id=refund["id"],
        payment_intent_id=refund.get("payment_intent"),
        amount_cents=int(refund.get("amount") or 0),
        status=str(refund.get("status")),
        created=int(refund.get("created") or 0),
        metadata={str(k): str(v) for k, v in (refund.get("metadata") or {}).items()},
    )


@dataclass(frozen=True)
class WebhookEvent:
    """The parts of a verified Stripe event FastFaktura uses; `payload` is all of it."""

    id: str
    type: str
    livemode: bool
    created: int
    object: dict[str, Any]
    payload: dict[str, Any]

    @property
    def payment_intent_id(self) -> str | None:
        if self.object.get("object") == "payment_intent":
            value = self.object.get("id")
            return value if isinstance(value, str) else None
        value = self.object.get("payment_intent")
        return value if isinstance(value, str) else None


def _info(resource: stripe.PaymentIntent) -> PaymentIntentInfo:
    intent: dict[str, Any] = resource.to_dict()
    amount = intent.get("amount_received") or intent.get("amount")
    return PaymentIntentInfo(
        id=intent["id"],
        amount_cents=int(amount or 0),
        currency=str(intent["currency"]).upper(),
        status=str(intent["status"]),
        client_secret=intent.get("client_secret"),
        livemode=bool(intent.get("livemode")),
        metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
    )


def _provider_error(exc: stripe.StripeError) -> PaymentProviderError:
    # Stripe refused the request itself (a 400 or 404): the same request will never succeed.
    permanent = isinstance(exc, stripe.InvalidRequestError | stripe.CardError)
    message = exc.user_message or str(exc) or type(exc).__name__
    return PaymentProviderError(f"Stripe: {message}", permanent=permanent)


class StripeGateway:
    def __init__(self, settings: StripeSettings, *, timeout_seconds: float = 20.0) -> None:
        self.settings = settings
        self._timeout = timeout_seconds
        self._clients: dict[str, stripe.StripeClient] = {}

    def available(self, mode: str) -> bool:
        return self.settings.secret_key(mode) is not None

    def client(self, mode: str) -> stripe.StripeClient:
        key = self.settings.secret_key(mode)
        if key is None:
            raise PaymentProviderError(f"no Stripe key is configured for {mode}", permanent=False)
        if mode not in self._clients:
            base = {"api": self.settings.api_base} if self.settings.api_base else None
            self._clients[mode] = stripe.StripeClient(
                key,
                base_addresses=base,  # type: ignore[arg-type]
                http_client=stripe.HTTPXClient(timeout=self._timeout),
                # Retries repeat the idempotency key: a retried create is the same create.
                max_network_retries=2,
            )
        return self._clients[mode]

    async def create_payment_intent(
        self,
        mode: str,
        *,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntentInfo:
        try:
            intent = await self.client(mode).v1.payment_intents.create_async(
                {
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _info(intent)

    async def update_payment_intent_amount(
        self, mode: str, payment_intent_id: str, *, amount_cents: int, idempotency_key: str
    ) -> PaymentIntentInfo:
        try:
            intent = await self.client(mode).v1.payment_intents.update_async(
                payment_intent_id, {"amount": amount_cents}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _info(intent)

    async def cancel_payment_intent(
        self, mode: str, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntentInfo:
        try:
            intent = await self.client(mode).v1.payment_intents.cancel_async(
                payment_intent_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _info(intent)

    async def retrieve_payment_intent(self, mode: str, payment_intent_id: str) -> PaymentIntentInfo:
        try:
            intent = await self.client(mode).v1.payment_intents.retrieve_async(payment_intent_id)
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _info(intent)

    async def create_refund(
        self,
        mode: str,
        payment_intent_id: str,
        *,
        amount_cents: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> RefundInfo:
        try:
            refund = await self.client(mode).v1.refunds.create_async(
                {"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _refund_info(refund)

    async def refunds_of(self, mode: str, payment_intent_id: str) -> list[RefundInfo]:
        """Every refund of the PaymentIntent's payment, made from here or elsewhere (the
        Dashboard)."""
        try:
            page = await self.client(mode).v1.refunds.list_async(
                {"payment_intent": payment_intent_id, "limit": 100}
            )
            refunds = [_refund_info(refund) async for refund in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return refunds

    def verify_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        """The event, if `Stripe-Signature` signs exactly these bytes with one of the
        configured secrets, recently; else WebhookRejected."""
        if not self.settings.webhook_secrets:
            raise WebhookRejected("no webhook secret is configured (STRIPE_WEBHOOK_SECRET)")
        if not signature:
            raise WebhookRejected("the Stripe-Signature header is missing")
        timestamp = signature_timestamp(signature)
        if timestamp is None:
            raise WebhookRejected("the Stripe-Signature header has no timestamp t=<Unix seconds>")
        if timestamp > time.time() + SIGNATURE_TOLERANCE_SECONDS:
            raise WebhookRejected(
                "the Stripe-Signature timestamp is more than "
                f"{SIGNATURE_TOLERANCE_SECONDS} seconds in the future"
            )
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected("the body is not UTF-8") from None
        for secret in self.settings.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(
                    text, signature, secret, SIGNATURE_TOLERANCE_SECONDS
                )
                break
            except stripe.SignatureVerificationError:
                continue
        else:
            raise WebhookRejected("the Stripe-Signature header does not sign this body")
        return parse_event(payload)


def parse_event(payload: bytes) -> WebhookEvent:
    # Checked before decoding: msgspec's decoder recurses once per level.
    if nested_too_deep(payload):
        raise WebhookRejected(f"the body is nested deeper than {MAX_JSON_DEPTH} levels", "body")
    try:
        body = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        raise WebhookRejected("the body is not JSON", "body") from None
    if not isinstance(body, dict):
        raise WebhookRejected("the body is not a Stripe event", "body")
    data = body.get("data")
    event_id, event_type, created = body.get("id"), body.get("type"), body.get("created")
    if (
        not isinstance(event_id, str)
        or not 0 < len(event_id) <= 255
        or not isinstance(event_type, str)
        or not 0 < len(event_type) <= 255
        or not isinstance(created, int)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise WebhookRejected(
            "the body is not a Stripe event (id, type, created, data.object)", "body"
        )
    return WebhookEvent(
        id=event_id,
        type=event_type,
        livemode=body.get("livemode") is True,
        created=created,
        object=data["object"],
        payload=body,
    )
