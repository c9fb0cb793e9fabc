"""POST /api/v1/invoices/{id}/send and GET /api/v1/sandbox/messages."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID, uuid5

from asyncpg import Connection, Pool
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from fastfaktura.adapters.deadlines import run_in_thread
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.pdf.issued import produce_documents, store_documents
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import answers, problem_responses
from fastfaktura.api.fields import SEND_FIELDS
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.input import Page, PerPage, check_each, json_object, parse_uuid
from fastfaktura.api.invoices import _from_aggregate
from fastfaktura.api.openapi import json_body
from fastfaktura.api.schemas import SendRequest
from fastfaktura.api.sending_schemas import (
    DeliveryResponse,
    SandboxMessage,
    SandboxMessagePage,
    SendResponse,
)
from fastfaktura.api.services import Services, json_response, parse_id, services
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.readmodels.queries.deliveries import delivery_statuses

CHANNELS = ("email", "sms", "link")
SANDBOX_WAIT_SECONDS = 5.0


def _sql(name: str) -> str:
    return local_statement(__file__, "sending.sql", name)


def parse_send(body: bytes) -> tuple[list[str], bool]:
    data = json_object(body)
    clean, errors = check_each({k: v for k, v in data.items() if k != "channels"}, SEND_FIELDS)
    channels = data.get("channels")
    if "channels" not in data:
        errors.append(FieldError("channels", "is required"))
    elif not isinstance(channels, list) or not channels:
        errors.append(FieldError("channels", "must be a non-empty array of: email, sms, link"))
    else:
        for index, channel in enumerate(channels):
            if channel not in CHANNELS:
                errors.append(FieldError(f"channels[{index}]", "must be one of: email, sms, link"))
        if len(set(map(str, channels))) != len(channels):
            errors.append(FieldError("channels", "may name each channel once"))
    if errors:
        raise InvalidInputError(errors)
    return list(channels or []), bool(clean.get("reminder", False))


async def settled(
    statuses_now: Callable[[], Awaitable[dict[str, str]]], ids: set[str]
) -> dict[str, str]:
    """Sandbox deliveries take milliseconds: wait (bounded) until the deliveries `ids` are done,
    so that the answer, and the sandbox outbox right after it, already show them (invoices and
    credit notes alike; `statuses_now` reads the document's delivery statuses)."""
    deadline = time.monotonic() + SANDBOX_WAIT_SECONDS
    while True:
        found = await statuses_now()
        statuses = {key: status for key, status in found.items() if key in ids}
        if len(statuses) == len(ids) and "pending" not in statuses.values():
            return statuses
        if time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.005)


class SendController(Controller):
    path = "/api/v1"
    security = API_KEY_SECURITY
    tags = ["Invoices"]

    @post(
        "/invoices/{invoice_id:str}/send",
        operation_id="SendInvoice",
        description=(
            "Sends the invoice by each channel: email (PDF attached; needs the client's email), "
            "SMS (needs its phone), link. The first send records `sent`; `reminder: true` "
            "records `reminder_sent` for an invoice already sent. In the sandbox, nothing "
            "leaves the machine: deliveries are `simulated` and kept under /sandbox/messages. "
            "The first send issues the invoice: its PDF and e-invoice XML are rendered, stored "
            "and their SHA-256 recorded in its `sent` event before anything else, then served "
            "byte for byte by `/pdf` and `/xml` (503 when the PDF renderer is busy: nothing "
            "recorded, retry). It runs the legal checks first: 422 listing every broken rule."
        ),
        summary="Send by email, SMS and/or link, or send a reminder (sandbox: simulated)",
        status_code=200,
        operation_class=json_body(SendRequest, "Channels, and whether this is a reminder"),
        responses=answers(200, SendResponse, "Sent (decided)", 400, 401, 404, 409, 422, 503),
    )
    async def send_invoice(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(invoice_id, "invoice")

        async def produce() -> Response[bytes]:
            channels, reminder = parse_send(await request.body())
            svc = services(request.app.state)
            documents: dict[str, str] | None = None
            issued_version: int | None = None
            if not reminder:
                documents, issued_version = await issue_documents(
                    svc, tenant.business_id, target, channels
                )
            written = await svc.execute(
                lambda: svc.app.send_invoice(
                    tenant.business_id,
                    target,
                    channels,
                    reminder=reminder,
                    documents=documents,
                    issued_version=issued_version,
                )
            )
            invoice = written.value
            decided = [
                invoice.deliveries[str(uuid5(invoice.id, f"{invoice.version}/{c}"))]
                for c in channels
            ]
            worker = getattr(request.app.state, "delivery_worker", None)
            if worker is not None:
                worker.wake()
            payments = getattr(request.app.state, "payment_worker", None)
            if payments is not None and not reminder:
                payments.wake()  # a first send asks for a PaymentIntent
            sandbox = tenant.mode == "sandbox"
            statuses: dict[str, str] = {}
            if sandbox and worker is not None:
                statuses = await settled(
                    lambda: delivery_statuses(svc.pool, tenant.business_id, invoice.id),
                    {d["id"] for d in decided},
                )
            body = _from_aggregate(svc, invoice)
            deliveries = [
                DeliveryResponse(
                    channel=d["channel"],
                    to=d["to"],
                    status=_status(statuses.get(d["id"], "pending"), sandbox),
                    url=body.public_url,
                )
                for d in decided
            ]
            return json_response(SendResponse(invoice=body, deliveries=deliveries))

        return await idempotent(request, tenant, produce)

    @get(
        "/sandbox/messages",
        operation_id="ListSandboxMessages",
        description=(
            "The emails and SMS a sandbox business would have sent (kept instead of delivered), "
            "newest first, optionally only those of one invoice (`invoice_id`, also finding the "
            "messages of its credit notes)."
        ),
        summary="Messages a sandbox business would have sent, newest first",
        tags=["Sandbox"],
        responses=problem_responses(401, 422),
    )
    async def list_messages(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        page: Page = 1,
        per_page: PerPage = 50,
        invoice_id: Annotated[
            str | None, Parameter(description="Only this invoice's messages")
        ] = None,
    ) -> SandboxMessagePage:
        invoice: UUID | None = None
        if invoice_id is not None:
            invoice = parse_uuid(invoice_id)
            if invoice is None:
                raise InvalidInputError([FieldError("invoice_id", "must be a UUID")])
        pool = services(request.app.state).pool
        async with pool.acquire() as conn:
            messages = await sandbox_messages(
                conn, tenant.business_id, invoice, per_page, (page - 1) * per_page
            )
            total = await conn.fetchval(_sql("count_sandbox_messages"), tenant.business_id, invoice)
        return SandboxMessagePage(
            data=messages,
            page=page,
            per_page=per_page,
            total=int(total),
        )


async def sandbox_messages(
    db: Pool | Connection, business_id: UUID, invoice_id: UUID | None, limit: int, offset: int
) -> list[SandboxMessage]:
    """The sandbox outbox, newest first (also shown on /account)."""
    rows = await db.fetch(_sql("list_sandbox_messages"), business_id, invoice_id, limit, offset)
    return [
        SandboxMessage(
            id=row["id"],
            invoice_id=row["invoice_id"],
            channel=row["channel"],
            to=row["recipient"],
            subject=row["subject"],
            body=row["body"],
            url=row["url"],
            attachments=json.loads(row["attachments"]),
            created_at=row["created_at"],
            credit_note_id=row["credit_note_id"],
        )
        for row in rows
    ]


async def issue_documents(
    svc: Services, business_id: UUID, invoice_id: UUID, channels: list[str]
) -> tuple[dict[str, str], int]:
    """A first send's documents, rendered from the draft as the send will issue it and stored
    before anything is recorded (adapters/pdf/issued.py): their digests by kind, and the
    draft's version they were rendered from (the send refuses a draft changed since)."""
    draft, _ = await run_in_thread(
        lambda: svc.app.invoice_to_send(business_id, invoice_id, channels),
        svc.settings.database_timeout,
    )
    produced = await produce_documents(svc.pdfs, svc.pool, business_id, _from_aggregate(svc, draft))
    digests = await store_documents(svc.pool, business_id, draft.id, draft.version + 1, produced)
    return digests, draft.version


def _status(status: str, sandbox: bool) -> Any:
    """Sandbox deliveries that went through are `simulated`: nothing left the machine."""
    return "simulated" if sandbox and status == "delivered" else status
