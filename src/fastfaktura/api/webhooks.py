"""`POST /api/v1/webhooks/stripe`: Stripe's notifications (docs/payments.md).

No API key: the `Stripe-Signature` header authenticates the exact bytes of the body. A body it
does not sign is answered 400 and nothing is stored. A signed event is kept in the inbox, once
per Stripe event id (a repeat only counts the delivery), and answered 200 at once: the payments
worker applies it, so Stripe never waits on the event store.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import structlog
from litestar import Request, Response, post

from fastfaktura.adapters.stripe_gateway import WebhookRejected
from fastfaktura.adapters.stripe_inbox import inbox_sql
from fastfaktura.api.errors import Problem, answers, problem
from fastfaktura.api.services import json_response, services
from fastfaktura.domain.errors import FieldError
from fastfaktura.readmodels.wire_types import described

log = structlog.get_logger(__name__)


class WebhookReceived(msgspec.Struct, kw_only=True):
    """Stripe's event, acknowledged."""

    id: Annotated[str, described("Stripe's event id", "evt_1QxYz2AbCdEfGhIj")]
    type: Annotated[str, described("Stripe's event type", "payment_intent.succeeded")]
    # False when Stripe sent this event before: it was kept once and is not applied again.
    first_delivery: Annotated[
        bool, described("False when Stripe sent it before (kept once, not applied again)", True)
    ]


@post(
    "/api/v1/webhooks/stripe",
    operation_id="StripeWebhook",
    description=(
        "Stripe's events (card payments), verified by their Stripe-Signature header rather than "
        "an API key, kept once in an inbox and applied by a worker. A signature that does not "
        "match answers 400."
    ),
    summary="Stripe webhook (authenticated by its Stripe-Signature header, not an API key)",
    tags=["Payments"],
    status_code=200,
    responses=answers(200, WebhookReceived, "Kept in the inbox", 400, 413),
)
async def stripe_webhook(request: Request[Any, Any, Any]) -> Response[Any]:
    svc = services(request.app.state)
    payload = await request.body()
    try:
        event = svc.stripe.verify_webhook(payload, request.headers.get("stripe-signature"))
    except WebhookRejected as exc:
        log.warning("stripe webhook rejected", reason=str(exc))
        rejected: Response[Problem] = problem(
            400,
            "invalid-webhook",
            "Webhook rejected",
            str(exc),
            [FieldError(exc.field, str(exc))],
        )
        return rejected
    first = await svc.pool.fetchval(
        inbox_sql("keep_webhook"),
        event.id,
        event.type,
        event.livemode,
        event.payment_intent_id,
        msgspec.json.encode(event.payload).decode(),
    )
    log.info("stripe webhook kept", event_id=event.id, type=event.type, first=bool(first))
    worker = getattr(request.app.state, "payment_worker", None)
    if worker is not None:
        worker.wake()
    return json_response(WebhookReceived(id=event.id, type=event.type, first_delivery=bool(first)))
