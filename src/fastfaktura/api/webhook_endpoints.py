"""/api/v1/webhook_endpoints: where a business's events are pushed (API.md "Webhook
endpoints"). The worker that delivers them is policies/webhooks.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from fastfaktura.adapters.webhooks import store
from fastfaktura.adapters.webhooks.addresses import (
    Resolver,
    UnsafeUrl,
    checked_addresses,
    parse_target,
    system_resolver,
)
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.body_fields import PageNumber, PerPageCount, Total
from fastfaktura.api.errors import answers, problem_responses
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.input import (
    CONTROL_MESSAGE,
    Page,
    PerPage,
    has_control_characters,
    json_object,
)
from fastfaktura.api.openapi import json_body
from fastfaktura.api.services import json_response, parse_id, services
from fastfaktura.domain.errors import FieldError, InvalidInputError, NotFoundError
from fastfaktura.readmodels.feed import EVENT_TYPES
from fastfaktura.readmodels.wire_types import EXAMPLE_TIME, CreatedAt, described

FIELDS = ("url", "events", "description")
MAX_DESCRIPTION = 500
ALL_EVENTS = "*"


EndpointUrl = Annotated[
    str,
    described(
        "Where events are POSTed (https for a live business)",
        "https://erp.example.com/hooks/fastfaktura",
    ),
]
EndpointEvents = Annotated[
    list[str],
    described('Event types of GET /api/v1/events it receives, or ["*"]', ["invoice.paid"]),
]
EndpointDescription = Annotated[str, described("A note for you", "ERP sync")] | None
EndpointId = Annotated[UUID, described("The endpoint's id", "2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091")]
DeliveredEventId = Annotated[
    UUID, described("The event delivered (its feed id)", "9a1f3e0c-5b7d-4f2a-8c6e-1d0b9a8f7e6d")
]


class WebhookEndpointResponse(msgspec.Struct, kw_only=True):
    """A URL the business's events are delivered to, signed (Standard Webhooks)."""

    id: EndpointId
    url: EndpointUrl
    events: EndpointEvents
    description: EndpointDescription
    # `disabled` after every delivery failed for the retry window (a retry enables it again).
    status: Annotated[
        Literal["enabled", "disabled"],
        described("disabled after every delivery failed for the retry window", "enabled"),
    ]
    disabled_at: Annotated[datetime, described("When it was disabled", None)] | None
    disabled_reason: Annotated[str, described("Why it was disabled", None)] | None
    created_at: CreatedAt

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebhookEndpointResponse:
        return msgspec.convert(_fields(row), cls, strict=False)


class WebhookEndpointCreated(WebhookEndpointResponse, kw_only=True):
    """The registration's answer: the only time the signing secret is shown."""

    secret: Annotated[
        str,
        described(
            "The signing secret (Standard Webhooks), shown only here",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
    ]


class WebhookEndpointPage(msgspec.Struct, kw_only=True):
    """A page of webhook endpoints."""

    data: Annotated[list[WebhookEndpointResponse], described("The endpoints of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total


class WebhookAttemptResponse(msgspec.Struct, kw_only=True):
    """One attempt to deliver an event to the endpoint."""

    event_id: DeliveredEventId
    type: Annotated[str, described("The event's type", "invoice.paid")]
    attempt: Annotated[int, described("Which attempt, from 1", 1)]
    status_code: Annotated[int, described("The endpoint's HTTP status (null: none)", 200)] | None
    error: Annotated[str, described("Why it failed (null: it succeeded)", None)] | None
    duration_ms: Annotated[int, described("How long it took, milliseconds", 87)]
    created_at: Annotated[datetime, described("When it was made (RFC 3339, UTC)", EXAMPLE_TIME)]


class WebhookAttemptPage(msgspec.Struct, kw_only=True):
    """A page of delivery attempts, newest first."""

    data: Annotated[list[WebhookAttemptResponse], described("The attempts of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total


class RetryAccepted(msgspec.Struct, kw_only=True):
    """The retry is queued: the delivery worker makes it now."""

    endpoint_id: EndpointId
    event_id: DeliveredEventId
    status: Annotated[Literal["pending"], described("Always pending: queued", "pending")] = (
        "pending"
    )


class WebhookEndpointRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An endpoint to register."""

    url: EndpointUrl
    events: EndpointEvents
    description: EndpointDescription = None


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "events": list(row["events"]),
        "status": "disabled" if row["disabled_at"] is not None else "enabled",
    }


def resolver(state: Any) -> Resolver:
    """The DNS lookup of the SSRF guard (tests put their own on app.state)."""
    found: Resolver = getattr(state, "webhook_resolver", None) or system_resolver
    return found


def _events_errors(events: Any) -> list[FieldError]:
    if not isinstance(events, list) or not events:
        return [FieldError("events", 'must be a non-empty list of event types, or ["*"]')]
    errors = [
        FieldError(f"events[{i}]", "is not an event type of GET /api/v1/events, nor *")
        for i, kind in enumerate(events)
        if not isinstance(kind, str) or (kind not in EVENT_TYPES and kind != ALL_EVENTS)
    ]
    if not errors and ALL_EVENTS in events and len(events) > 1:
        errors.append(FieldError("events", '"*" stands alone: it means every type'))
    elif not errors and len(set(events)) != len(events):
        errors.append(FieldError("events", "lists a type twice"))
    return errors


async def parse_endpoint(
    body: dict[str, Any], tenant: Tenant, lookup: Resolver
) -> tuple[str, list[str], str | None]:
    """The checked body, or a 422 naming every invalid field (nothing is stored)."""
    live = tenant.mode == "live"
    errors = [
        FieldError(name[:100], "is not a field of a webhook endpoint")
        for name in body
        if name not in FIELDS
    ]
    url = body.get("url")
    if not isinstance(url, str) or not url:
        errors.append(FieldError("url", "is required: the URL to deliver to"))
    else:
        try:
            target = parse_target(url, live=live)
            if live or target.literal:  # sandbox names may not resolve yet (local setups)
                await checked_addresses(target, live=live, resolver=lookup)
        except UnsafeUrl as exc:
            errors.append(FieldError("url", str(exc)))
    errors.extend(_events_errors(body.get("events")))
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        errors.append(FieldError("description", "must be a string or null"))
    elif isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"must be at most {MAX_DESCRIPTION} characters"))
    elif isinstance(description, str) and has_control_characters(description):
        errors.append(FieldError("description", CONTROL_MESSAGE))
    if errors:
        raise InvalidInputError(errors)
    assert isinstance(url, str)
    return url, list(body["events"]), description or None


class WebhookEndpointController(Controller):
    path = "/api/v1/webhook_endpoints"
    security = API_KEY_SECURITY
    tags = ["Webhook endpoints"]

    @post(
        operation_id="CreateWebhookEndpoint",
        description=(
            "Registers a URL to receive the business's events (those of GET /api/v1/events), "
            "signed per Standard Webhooks with the secret in this answer. A live business's URL "
            "must be https and public."
        ),
        summary="Register a webhook endpoint (its signing secret is shown only here)",
        status_code=201,
        operation_class=json_body(WebhookEndpointRequest, "The endpoint to register"),
        responses=answers(201, WebhookEndpointCreated, "Created", 400, 401, 409, 422),
    )
    async def create_endpoint(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
    ) -> Response[bytes]:
        async def produce() -> Response[bytes]:
            url, events, description = await parse_endpoint(
                json_object(await request.body()), tenant, resolver(request.app.state)
            )
            row = await store.create_endpoint(
                services(request.app.state).pool, tenant.business_id, url, events, description
            )
            body = msgspec.convert(_fields(row), WebhookEndpointCreated, strict=False)
            return json_response(body, 201, {"Location": f"{self.path}/{body.id}"})

        return await idempotent(request, tenant, produce)

    @get(
        operation_id="ListWebhookEndpoints",
        description=(
            "The business's webhook endpoints, newest first, paged (the signing secrets are "
            "never shown again)."
        ),
        summary="List webhook endpoints, newest first",
        responses=problem_responses(401, 422),
    )
    async def list_endpoints(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> WebhookEndpointPage:
        rows, total = await store.list_endpoints(
            services(request.app.state).pool, tenant.business_id, page, per_page
        )
        return WebhookEndpointPage(
            data=[WebhookEndpointResponse.from_row(r) for r in rows],
            page=page,
            per_page=per_page,
            total=total,
        )

    @get(
        "/{endpoint_id:str}",
        operation_id="GetWebhookEndpoint",
        description=(
            "One webhook endpoint: its URL, the event types it receives, and whether it is enabled."
        ),
        summary="One webhook endpoint",
        responses=problem_responses(401, 404),
    )
    async def get_endpoint(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        endpoint_id: FromPath[str],
    ) -> WebhookEndpointResponse:
        row = await store.get_endpoint(
            services(request.app.state).pool,
            tenant.business_id,
            parse_id(endpoint_id, "webhook endpoint"),
        )
        if row is None:
            raise NotFoundError("webhook endpoint")
        return WebhookEndpointResponse.from_row(row)

    @delete(
        "/{endpoint_id:str}",
        operation_id="DeleteWebhookEndpoint",
        description=(
            "Deletes the endpoint: nothing more is delivered to it. Its delivery log stays "
            "readable."
        ),
        summary="Delete a webhook endpoint (its delivery log is kept)",
        status_code=200,
        responses=problem_responses(401, 404),
    )
    async def delete_endpoint(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        endpoint_id: FromPath[str],
    ) -> WebhookEndpointResponse:
        row = await store.delete_endpoint(
            services(request.app.state).pool,
            tenant.business_id,
            parse_id(endpoint_id, "webhook endpoint"),
        )
        if row is None:
            raise NotFoundError("webhook endpoint")
        return WebhookEndpointResponse.from_row(row)

    @get(
        "/{endpoint_id:str}/deliveries",
        operation_id="ListWebhookDeliveries",
        description=(
            "The endpoint's delivery attempts, newest first, paged: status code, error and "
            "duration of each (kept after the endpoint's deletion)."
        ),
        summary="The endpoint's delivery attempts, newest first (kept after its deletion)",
        responses=problem_responses(401, 404, 422),
    )
    async def list_deliveries(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        endpoint_id: FromPath[str],
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> WebhookAttemptPage:
        pool = services(request.app.state).pool
        target = parse_id(endpoint_id, "webhook endpoint")
        if await store.get_endpoint(pool, tenant.business_id, target, deleted_too=True) is None:
            raise NotFoundError("webhook endpoint")
        rows, total = await store.list_attempts(pool, tenant.business_id, target, page, per_page)
        return WebhookAttemptPage(
            data=[msgspec.convert(r, WebhookAttemptResponse, strict=False) for r in rows],
            page=page,
            per_page=per_page,
            total=total,
        )

    @post(
        "/{endpoint_id:str}/deliveries/{event_id:str}/retry",
        operation_id="RetryWebhookDelivery",
        description=(
            "Queues the event for delivery to the endpoint again, now, and enables the endpoint "
            "if it was disabled. Answers 202: the attempt shows in the endpoint's deliveries."
        ),
        summary="Deliver an event to the endpoint again, now (enables a disabled endpoint)",
        status_code=202,
        responses=answers(202, RetryAccepted, "Accepted", 401, 404, 409, 422),
    )
    async def retry_delivery(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        endpoint_id: FromPath[str],
        event_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(endpoint_id, "webhook endpoint")
        event = parse_id(event_id, "delivery")

        async def produce() -> Response[bytes]:
            pool = services(request.app.state).pool
            if not await store.retry_delivery(pool, tenant.business_id, target, event):
                raise NotFoundError("delivery")
            worker = getattr(request.app.state, "webhook_worker", None)
            if worker is not None:
                worker.wake()
            return json_response(RetryAccepted(endpoint_id=target, event_id=event), 202)

        return await idempotent(request, tenant, produce)
