"""The local Stripe-compatible server the payment tests drive: `localstripe`, run in its own
process, plus the one piece of Stripe's documented behaviour it lacks that FastFaktura relies
on: idempotency keys (https://docs.stripe.com/api/idempotent_requests), Stripe's minimum
charge amounts, and two fixes to PaymentIntent updates.

Stripe keeps the first answer to a POST with an `Idempotency-Key` (per API key) and replays it
for a retry with the same key and the same parameters (header `Idempotent-Replayed: true`); the
same key with other parameters is a 400 `idempotency_error`. localstripe ignores the header, so
without this a worker's retry after a crash could not be shown to create no second
PaymentIntent.

Minimum charge amounts: Stripe refuses a PaymentIntent (or an amount update) below the
currency's minimum with a 400 `amount_too_small`; localstripe takes any positive amount.

PaymentIntent updates: localstripe keeps an updated `amount` as the string it was posted (Stripe
answers an integer), and lets the amount of any intent change (Stripe refuses it once the
intent succeeded or was cancelled). Both are made to behave as Stripe does.

Refunds: localstripe refunds any positive amount of a charge, however much was refunded
already; Stripe refuses a refund above what is left unrefunded of the charge (a 400). Made to
behave as Stripe does, so that a refund split across payments is checked by the server too.
Nothing else is changed; state is kept in memory only (localstripe would pickle it to /tmp
after every request).

    python -m tests.payments.stripe_server --port 8420
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import Charge, PaymentIntent, Refund, store, try_convert_to_int

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Kept:
    request: tuple[str, bytes]  # path and body: a retry must repeat them
    status: int
    body: bytes
    content_type: str


_kept: dict[tuple[str, str], _Kept] = {}
_locks: dict[tuple[str, str], asyncio.Lock] = {}


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    scope = (request.headers.get("Authorization", ""), key)
    body = await request.read()
    async with _locks.setdefault(scope, asyncio.Lock()):
        kept = _kept.get(scope)
        if kept is None:
            response = await handler(request)
            assert isinstance(response, web.Response)
            content = response.body if isinstance(response.body, bytes) else b""
            if response.status < 500:  # Stripe does not keep answers to server errors
                _kept[scope] = _Kept(
                    (request.path, body), response.status, content, response.content_type
                )
            return response
    if kept.request != (request.path, body):
        error = {
            "error": {
                "type": "idempotency_error",
                "message": "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with.",
            }
        }
        return web.json_response(error, status=400)
    return web.Response(
        body=kept.body,
        status=kept.status,
        content_type=kept.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


# Stripe lets an intent's amount change only while it waits for its payment.
UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
# Stripe's minimum charge amounts, in the currencies FastFaktura invoices in (cents):
# https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
MINIMUM_CHARGE = {"eur": 50, "usd": 50, "gbp": 30, "nok": 300, "sek": 300, "dkk": 250}
_localstripe_create = PaymentIntent._api_create.__func__  # type: ignore[attr-defined]
_localstripe_update = PaymentIntent._api_update.__func__  # type: ignore[attr-defined]


def _check_minimum(amount: Any, currency: Any) -> None:
    minimum = MINIMUM_CHARGE.get(str(currency).lower(), 50)
    converted = try_convert_to_int(amount)
    if isinstance(converted, int) and 0 < converted < minimum:
        raise UserError(
            400,
            f"Amount must be at least {minimum} cents {currency}",
            {"code": "amount_too_small", "param": "amount"},
        )


def _create_like_stripe(cls: type[PaymentIntent], **data: Any) -> PaymentIntent:
    _check_minimum(data.get("amount"), data.get("currency"))
    intent: PaymentIntent = _localstripe_create(cls, **data)
    return intent


def _update_like_stripe(cls: type[PaymentIntent], id: str, **data: Any) -> PaymentIntent:
    if "amount" in data:
        intent = cls._api_retrieve(id)
        if intent.status not in UPDATABLE:
            raise UserError(400, "This PaymentIntent's amount could not be updated.")
        _check_minimum(data["amount"], intent.currency)
        data["amount"] = try_convert_to_int(data["amount"])
    updated: PaymentIntent = _localstripe_update(cls, id, **data)
    return updated


_localstripe_refund = Refund._api_create.__func__  # type: ignore[attr-defined]


def _refund_like_stripe(cls: type[Refund], **data: Any) -> Refund:
    charge: Any = None
    if isinstance(data.get("payment_intent"), str):
        charge = PaymentIntent._api_retrieve(data["payment_intent"]).latest_charge
    elif isinstance(data.get("charge"), str):
        charge = Charge._api_retrieve(data["charge"])
    amount = try_convert_to_int(data.get("amount"))
    if charge is not None:
        left = charge.amount - charge.amount_refunded
        asked = amount if isinstance(amount, int) else charge.amount
        if asked > left:
            raise UserError(
                400,
                f"Refund amount ({asked}) is greater than unrefunded amount on charge ({left})",
                {"param": "amount"},
            )
    refund: Refund = _localstripe_refund(cls, **data)
    return refund


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    PaymentIntent._api_create = classmethod(_create_like_stripe)  # type: ignore[assignment]
    PaymentIntent._api_update = classmethod(_update_like_stripe)  # type: ignore[assignment]
    Refund._api_create = classmethod(_refund_like_stripe)  # type: ignore[assignment]
    server.app.middlewares.insert(0, idempotency)
    print(json.dumps({"listening": args.port}), flush=True)
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
