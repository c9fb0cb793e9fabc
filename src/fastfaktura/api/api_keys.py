"""/api/v1/api_keys: a business lists, creates and revokes its own API keys (API.md "API keys
and account settings"). A key is shown once, in the creation's answer; lists show its prefix.

`POST` takes `Idempotency-Key` like every POST: a retry within 24 hours gets the same key back,
and no second key is made. The stored answer is sealed (api/idempotency.py), so the key is
never readable from the database, where keys are kept only as a hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Parameter
from msgspec import Meta

from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.body_fields import PageNumber, PerPageCount, Total
from fastfaktura.api.errors import answers, problem_responses
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.input import Field, Page, PerPage, check, json_object
from fastfaktura.api.openapi import json_body
from fastfaktura.api.services import json_response, services
from fastfaktura.api.sessions import replay_sealer
from fastfaktura.domain.api_key import KEY_NAME_MAX_LENGTH, KEY_PREFIX_LENGTH, ApiKey
from fastfaktura.domain.errors import ApiKeyNotFoundError
from fastfaktura.readmodels.queries.api_keys import (
    business_keys,
    count_business_keys,
    find_business_key,
)
from fastfaktura.readmodels.wire_types import EXAMPLE_TIME, CreatedAt, described

KEY_FIELDS: Final = (Field("name", "text", max_length=KEY_NAME_MAX_LENGTH),)


class ApiKeyResponse(msgspec.Struct, kw_only=True):
    """An API key of the business, named by its prefix (the key itself is never shown again)."""

    key_prefix: Annotated[
        str, described("The key's first characters: how it is named and revoked", "ffk_test_Xq3vR9")
    ]
    name: Annotated[str, described("The name given at creation", "CI")] | None
    created_at: CreatedAt
    # Precise to API_KEY_LAST_USED_PRECISION seconds (default 60): see docs/api.md.
    last_used_at: (
        Annotated[
            datetime,
            described(
                "When it last authenticated a request (to the minute by default)", EXAMPLE_TIME
            ),
        ]
        | None
    )
    revoked_at: Annotated[datetime, described("When it was revoked (null: active)", None)] | None

    @classmethod
    def from_row(cls, row: Any) -> ApiKeyResponse:
        return cls(
            key_prefix=row["key_prefix"],
            name=row["name"],
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            revoked_at=row["revoked_at"],
        )


class ApiKeyCreated(ApiKeyResponse, kw_only=True):
    """The creation's answer: the only time the key itself is ever shown."""

    api_key: Annotated[
        str,
        described(
            "The key: keep it, it is shown this once (X-Api-Key or Bearer)",
            "ffk_test_Xq3vR9kLm2Np4Qr6St8Uv0Wx1Yz3Ab5Cd",
        ),
    ]


class ApiKeyPage(msgspec.Struct, kw_only=True):
    """A page of API keys, newest first."""

    data: Annotated[list[ApiKeyResponse], described("The keys of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total


class ApiKeyCreateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new API key of the business (the body may be left out)."""

    name: (
        Annotated[
            Annotated[str, Meta(max_length=KEY_NAME_MAX_LENGTH)],
            described("A name to recognise it by", "CI"),
        ]
        | None
    ) = None


def key_row(api_key: ApiKey, last_used_at: datetime | None = None) -> dict[str, Any]:
    return {
        "key_prefix": api_key.key_prefix,
        "name": api_key.name,
        "created_at": api_key.issued_at,
        "last_used_at": last_used_at,
        "revoked_at": api_key.revoked_at,
    }


def key_name(body: bytes) -> str | None:
    """The optional name of a new key; an empty body is a key without a name."""
    if not body.strip():
        return None
    name = check(json_object(body), KEY_FIELDS).get("name")
    return name or None


class ApiKeyController(Controller):
    path = "/api/v1/api_keys"
    security = API_KEY_SECURITY
    tags = ["API keys"]

    @get(
        operation_id="ListApiKeys",
        description=(
            "The business's API keys, newest first, paged, each named by its prefix; the keys "
            "themselves are never shown again."
        ),
        summary="The business's API keys, newest first (never the keys themselves)",
        responses=problem_responses(401, 422),
    )
    async def list_keys(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> ApiKeyPage:
        pool = services(request.app.state).pool
        async with pool.acquire() as conn:
            keys = await business_keys(conn, tenant.business_id, per_page, (page - 1) * per_page)
            total = await count_business_keys(conn, tenant.business_id)
        return ApiKeyPage(
            data=[ApiKeyResponse.from_row(msgspec.structs.asdict(key)) for key in keys],
            page=page,
            per_page=per_page,
            total=total,
        )

    @post(
        operation_id="CreateApiKey",
        description=(
            "Creates an API key of the business (`ffk_test_...` in the sandbox, `ffk_live_...` "
            "when live). The key is in this answer only: keep it. It is stored as a hash."
        ),
        summary="Create an API key (the key is in this answer only)",
        status_code=201,
        operation_class=json_body(ApiKeyCreateRequest, "An optional name", required=False),
        responses=answers(201, ApiKeyCreated, "Created", 400, 401, 422),
    )
    async def create_key(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[bytes]:
        svc = services(request.app.state)

        async def produce() -> Response[bytes]:
            name = key_name(await request.body())
            written = await svc.execute(lambda: svc.app.issue_api_key(tenant.business_id, name))
            issued = written.value
            assert issued.api_key is not None
            body = ApiKeyCreated(**key_row(issued.api_key), api_key=issued.secret)
            return json_response(body, 201, {"Cache-Control": "no-store"})

        return await idempotent(request, tenant, produce, replay_sealer(svc.settings))

    @delete(
        "/{key_prefix:str}",
        operation_id="RevokeApiKey",
        description=(
            "Revokes the key with that prefix at once; later requests with it answer 401. The "
            "key in use may revoke itself."
        ),
        summary="Revoke an API key (at once; the key in use may revoke itself)",
        status_code=200,
        responses=problem_responses(401, 404, 409),
    )
    async def revoke_key(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        key_prefix: Annotated[
            str,
            Parameter(
                description="The key's prefix, as ListApiKeys shows it",
                examples=[Example(value="ffk_test_Xq3vR9")],
            ),
        ],
    ) -> ApiKeyResponse:
        if len(key_prefix) != KEY_PREFIX_LENGTH:
            raise ApiKeyNotFoundError(key_prefix)
        svc = services(request.app.state)
        written = await svc.execute(lambda: svc.app.revoke_api_key(key_prefix, tenant.business_id))
        shown = await find_business_key(svc.pool, tenant.business_id, written.value.key_prefix)
        last_used = shown.last_used_at if shown else None
        return ApiKeyResponse.from_row(key_row(written.value, last_used))
