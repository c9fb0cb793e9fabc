"""Idempotency-Key on every POST (API.md): the first 2xx answer is replayed for 24 hours.

Same key and same request: the stored status and body come back, nothing is done again, also
when both arrive at once (the second waits for the first). Same key, other request: 409.
A request that fails (4xx, 5xx) releases the key, so a corrected retry can use it.

An answer holding a secret shown once (a new API key) is stored sealed (`sealer`: AES-GCM under
a key derived from the service's secret, bound to the business and the Idempotency-Key), so the
database alone never holds it readable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.sealing import Sealer
from fastfaktura.api.auth import Tenant
from fastfaktura.api.errors import RequestConflict
from fastfaktura.api.services import services
from fastfaktura.domain.errors import ConflictError, FieldError, InvalidInputError
from fastfaktura.jsonlimits import nested_too_deep

HEADER = "idempotency-key"
_CANONICAL = msgspec.json.Encoder(order="sorted")
IN_FLIGHT_WAIT_SECONDS = 30.0


def _sql(name: str) -> str:
    return local_statement(__file__, "idempotency.sql", name)


async def idempotent(
    request: Request[Any, Any, Any],
    tenant: Tenant,
    produce: Callable[[], Awaitable[Response[bytes]]],
    sealer: Sealer | None = None,
) -> Response[bytes]:
    key = request.headers.get(HEADER)
    if key is None:
        return await produce()
    if not 1 <= len(key) <= 255:
        raise InvalidInputError([FieldError("Idempotency-Key", "must be 1 to 255 characters")])
    body = await request.body()
    fingerprint = _fingerprint(request.method, request.url.path, body)
    pool = services(request.app.state).pool
    args = (tenant.business_id, key)
    context = f"{tenant.business_id}/{key}".encode()
    while await pool.fetchval(_sql("claim"), *args, fingerprint) is None:
        replayed = await _replay(pool, args, fingerprint, sealer, context)
        if replayed is not None:
            return replayed
        # The first request failed and released the key: this one takes it over.
    try:
        response = await produce()
    except BaseException:
        await pool.execute(_sql("release"), *args)
        raise
    if 200 <= (response.status_code or 0) < 300:
        kept = ("location", "cache-control")
        headers = json.dumps({k: v for k, v in response.headers.items() if k.lower() in kept})
        content = response.content if sealer is None else sealer.seal(response.content, context)
        await pool.execute(_sql("complete"), *args, response.status_code, headers, content)
    else:
        await pool.execute(_sql("release"), *args)
    return response


def _fingerprint(method: str, path: str, body: bytes) -> str:
    """Same request = same method, path and JSON value: spacing and key order do not count."""
    if nested_too_deep(body):  # refused by the handler; the decoder would recurse without end
        canonical = body
    else:
        try:
            canonical = _CANONICAL.encode(msgspec.json.decode(body)) if body.strip() else b""
        except msgspec.DecodeError:
            canonical = body
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


async def purge_expired(pool: Any) -> int:
    """Forget keys older than 24 hours (the serve process runs this periodically)."""
    status: str = await pool.execute(_sql("purge"))
    return int(status.rsplit(" ", 1)[-1])


async def _replay(
    pool: Any, args: tuple[Any, ...], fingerprint: str, sealer: Sealer | None, context: bytes
) -> Response[bytes] | None:
    """The stored answer (waiting while the first request runs); None once it was released."""
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while True:
        row = await pool.fetchrow(_sql("find"), *args)
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            raise RequestConflict(
                "this Idempotency-Key was used with a different request", field="Idempotency-Key"
            )
        if row["response_status"] is not None:
            headers = json.loads(row["response_headers"] or "{}")
            headers["Idempotent-Replayed"] = "true"
            stored = bytes(row["response_body"])
            return Response(
                stored if sealer is None else sealer.unseal(stored, context),
                status_code=row["response_status"],
                media_type="application/json",
                headers=headers,
            )
        if time.monotonic() > deadline:
            raise ConflictError("a request with this Idempotency-Key is still in progress")
        await asyncio.sleep(0.02)
