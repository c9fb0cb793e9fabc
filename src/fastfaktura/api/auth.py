"""API-key authentication: `X-Api-Key: ffk_...` or `Authorization: Bearer ffk_...`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request

from fastfaktura.api.errors import Unauthorized
from fastfaktura.api.key_cache import KeyCache
from fastfaktura.api.ratelimit import NO_READ, READ_PARAMETERS_FROM, authenticate_and_take
from fastfaktura.api.services import services
from fastfaktura.domain.api_key import hash_key, key_prefix
from fastfaktura.readmodels.queries.api_keys import KeyOwner, authenticate
from fastfaktura.readmodels.queries.common import ScopedRead

# The OpenAPI security of every route that takes an API key (set on those controllers only:
# the public page, /health and the Stripe webhook take none).
API_KEY_SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]
_KEY_SHAPE = re.compile(r"^ffk_(test|live)_[A-Za-z0-9_-]{20,100}$")


@dataclass(frozen=True)
class Tenant:
    """The caller: the business its key belongs to. Every query is scoped by it."""

    business_id: UUID
    mode: str


def presented_key(request: Request[Any, Any, Any]) -> str:
    header_key = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    if header_key is not None:
        key = header_key.strip()
    elif authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be 'Bearer <API key>'.")
        key = token.strip()
    else:
        raise Unauthorized("Send your API key in the X-Api-Key header or as a Bearer token.")
    if not _KEY_SHAPE.match(key):
        raise Unauthorized("The API key is malformed: keys start with ffk_test_ or ffk_live_.")
    return key


async def provide_tenant(request: Request[Any, Any, Any]) -> Tenant:
    tenant, _ = await _authenticated(request, NO_READ)
    return tenant


async def tenant_and_read(
    request: Request[Any, Any, Any], read: ScopedRead, *args: Any
) -> tuple[Tenant, Any]:
    """The caller (as the `tenant` dependency: 401, 429 and the quota headers alike) and
    `read` of its business with `args`. With the per-key limit on (production) the read rides
    in the key's statement: one round trip. Limits off (the key may come from the cache) or a
    read replica (reads go there): the key, then the read."""
    svc = services(request.app.state)
    if svc.settings.rate_limits.keys_limited and svc.replica is None:
        return await _authenticated(
            request, read.within("api_key.business_id", READ_PARAMETERS_FROM), *args
        )
    tenant = await provide_tenant(request)
    return tenant, await svc.read(lambda db: read.fetch(db, tenant.business_id, *args))


async def _authenticated(
    request: Request[Any, Any, Any], read: str, *args: Any
) -> tuple[Tenant, Any]:
    key = presented_key(request)
    svc = services(request.app.state)
    limits = svc.settings.rate_limits
    owner: KeyOwner | None
    answer = None
    if limits.keys_limited:
        # The same query also takes a token from the key's bucket: only a known key has one.
        owner, answer = await authenticate_and_take(request, hash_key(key), limits, read, *args)
    else:
        owner = await _looked_up(svc.key_cache, svc.pool, hash_key(key))
    if owner is None:
        raise Unauthorized("The API key is unknown or revoked.")
    await svc.key_usage.used(svc.pool, key_prefix(key))
    return Tenant(business_id=owner.business_id, mode=owner.mode), answer


async def _looked_up(cache: KeyCache | None, pool: asyncpg.Pool, key_hash: str) -> KeyOwner | None:
    """The key's owner: from this process's cache (api/key_cache.py), else the read model."""
    if cache is None:
        return await authenticate(pool, key_hash)
    owner = cache.get(key_hash)
    if owner is None:
        generation = cache.generation
        owner = await authenticate(pool, key_hash)
        if owner is not None:
            cache.put(key_hash, owner, generation)
    return owner
