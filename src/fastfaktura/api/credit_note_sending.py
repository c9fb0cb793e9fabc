"""POST /api/v1/credit_notes/{id}/send: the same body and answer shape as an invoice's send
(API.md "Send"), the credit note in place of the invoice. A credit note has no reminders
(`reminder: true` is a 422) and may be sent again (each send decides new deliveries)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid5

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.credit_notes import from_aggregate
from fastfaktura.api.errors import answers
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.openapi import json_body
from fastfaktura.api.schemas import SendRequest
from fastfaktura.api.sending import parse_send, settled
from fastfaktura.api.sending_schemas import DeliveryResponse
from fastfaktura.api.services import json_response, parse_id, services
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from fastfaktura.readmodels.queries.deliveries import credit_note_delivery_statuses
from fastfaktura.readmodels.wire_types import described


class CreditNoteSendResponse(msgspec.Struct, kw_only=True):
    """The credit note sent, and one delivery per channel."""

    credit_note: CreditNoteResponse
    deliveries: Annotated[list[DeliveryResponse], described("One per channel asked for")]


def parse_credit_note_send(body: bytes) -> list[str]:
    channels, reminder = parse_send(body)
    if reminder:
        raise InvalidInputError([FieldError("reminder", "a credit note has no reminders")])
    return channels


class CreditNoteSendController(Controller):
    path = "/api/v1"
    security = API_KEY_SECURITY
    tags = ["Credit notes"]

    @post(
        "/credit_notes/{credit_note_id:str}/send",
        operation_id="SendCreditNote",
        description=(
            "Sends the credit note by email (PDF attached), SMS and/or link, like an invoice's "
            "send; a credit note has no reminders (`reminder: true` answers 422). In the "
            "sandbox, deliveries are `simulated`."
        ),
        summary="Send by email (PDF attached), SMS and/or link (sandbox: simulated)",
        status_code=200,
        operation_class=json_body(SendRequest, "Channels (`reminder` must be false or left out)"),
        responses=answers(200, CreditNoteSendResponse, "Sent (decided)", 400, 401, 404, 422),
    )
    async def send_credit_note(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        credit_note_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(credit_note_id, "credit note")

        async def produce() -> Response[bytes]:
            channels = parse_credit_note_send(await request.body())
            svc = services(request.app.state)
            written = await svc.execute(
                lambda: svc.app.send_credit_note(tenant.business_id, target, channels)
            )
            note = written.value
            decided = [
                note.deliveries[str(uuid5(note.id, f"{note.version}/{c}"))] for c in channels
            ]
            worker = getattr(request.app.state, "delivery_worker", None)
            if worker is not None:
                worker.wake()
            sandbox = tenant.mode == "sandbox"
            statuses: dict[str, str] = {}
            if sandbox and worker is not None:
                statuses = await settled(
                    lambda: credit_note_delivery_statuses(svc.pool, tenant.business_id, note.id),
                    {d["id"] for d in decided},
                )
            body = from_aggregate(svc, note)
            deliveries = [
                DeliveryResponse(
                    channel=d["channel"],
                    to=d["to"],
                    status=_status(statuses.get(d["id"], "pending"), sandbox),
                    url=body.public_url,
                )
                for d in decided
            ]
            return json_response(CreditNoteSendResponse(credit_note=body, deliveries=deliveries))

        return await idempotent(request, tenant, produce)


def _status(status: str, sandbox: bool) -> Any:
    """Sandbox deliveries that went through are `simulated`: nothing left the machine."""
    return "simulated" if sandbox and status == "delivered" else status
