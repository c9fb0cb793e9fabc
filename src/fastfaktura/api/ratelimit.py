"""Rate limits (API.md "Limits and availability"): token buckets kept in PostgreSQL, so every
server process on the database draws from the same bucket (docs/operations.md "Rate limits").

- Per API key: the token is taken by the statement that authenticates the key (api/auth.py), so
  a limited request costs no extra round trip and only issued keys ever get a bucket; a GET of
  one stored value (api/auth.py `tenant_and_read`) rides along in that statement too. Every
  answer after authentication carries `RateLimit-Limit`, `RateLimit-Remaining` and
  `RateLimit-Reset` (errors included: a hook adds them as the answer leaves); over the limit,
  `429` problem+json with `Retry-After`.
- Per client address, on the public pages: `PerAddressRateLimit`, a middleware on the paths it
  is given (PUBLIC_PATHS: the invoice and credit note pages, `/login`, `/signup`). Over the
  limit, an HTML `429` page.

Litestar's RateLimitMiddleware does not fit: it counts a fixed window in a per-process store
with a read-then-write under an in-process lock, so processes sharing a store would both admit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, cast

import asyncpg
import structlog
from litestar import Request, Response
from litestar.enums import MediaType, ScopeType
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from fastfaktura.adapters.deadlines import database_unavailable
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.web.page import ERROR_PAGE_HEADERS, render_error
from fastfaktura.api.errors import UNAVAILABLE_RETRY_AFTER_SECONDS, problem
from fastfaktura.api.services import services
from fastfaktura.config import RateLimitSettings
from fastfaktura.readmodels.queries.api_keys import KeyOwner

log = structlog.get_logger(__name__)

# The public paths limited per client address: the invoice and credit note pages, sign-in and
# sign-up.
PUBLIC_PATHS: Final = ("/i/", "/c/", "/login", "/signup")
# Where a request's key quota waits for the hook that writes its headers.
_SCOPE_KEY: Final = "fastfaktura.rate_limit"
PURGE_EVERY_SECONDS: Final = 60.0


def _sql(name: str) -> str:
    return local_statement(__file__, "ratelimit.sql", name)


@dataclass(frozen=True)
class Quota:
    """A bucket just after a request drew on it."""

    burst: int
    per_second: float
    tokens: float  # left after this request, partial tokens included
    allowed: bool  # this request took a token

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.tokens))

    @property
    def reset_seconds(self) -> int:
        """Until the bucket is full again: `RateLimit-Limit` requests can then go at once."""
        return max(0, math.ceil((self.burst - self.tokens) / self.per_second))

    @property
    def retry_after_seconds(self) -> int:
        """Until the next whole token (at least 1: `Retry-After` 0 invites a busy loop)."""
        return max(1, math.ceil((1 - self.tokens) / self.per_second))

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.burst),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


class RateLimited(Exception):
    """The API key's bucket is empty."""

    def __init__(self, quota: Quota) -> None:
        super().__init__("rate limited")
        self.quota = quota


def _quota(row: asyncpg.Record, per_second: float, burst: int) -> Quota:
    return Quota(burst=burst, per_second=per_second, tokens=row["tokens"], allowed=row["allowed"])


NO_READ: Final = "NULL"
# The key statement's own parameters are $1 to $3; a read's come after them.
READ_PARAMETERS_FROM: Final = 4


@cache
def authenticate_and_take_sql(read: str = NO_READ) -> str:
    """The key's statement with `read` (a scalar subquery of `api_key.business_id`, its
    parameters from $4) as its `answer` column."""
    return _sql("authenticate_and_take").replace("{read}", read)


async def authenticate_and_take(
    request: Request[Any, Any, Any],
    key_hash: str,
    limits: RateLimitSettings,
    read: str = NO_READ,
    *args: Any,
) -> tuple[KeyOwner | None, Any]:
    """The key's owner (business_id, mode), or None when unknown or revoked, and the answer of
    `read` (with `args`); raises RateLimited when the key's bucket is empty (nothing is read
    then). The quota is kept for the answer's headers."""
    pool = services(request.app.state).pool
    per_second, burst = limits.key_per_second, limits.key_burst
    row: asyncpg.Record | None = await pool.fetchrow(
        authenticate_and_take_sql(read), key_hash, per_second, burst, *args
    )
    if row is None:
        return None, None
    quota = _quota(row, per_second, burst)
    cast(dict[str, Any], request.scope)[_SCOPE_KEY] = quota
    if not quota.allowed:
        raise RateLimited(quota)
    return KeyOwner.from_row(row), row["answer"]


async def add_rate_limit_headers(message: Message, scope: Scope) -> None:
    """before_send hook: the key's quota on every answer after authentication, errors too.
    Appended as ASGI pairs: MutableScopeHeaders searched the list once per name (a few % of
    a GET by id's CPU, issue 12). A header the answer already has is kept (the 429's
    Retry-After, the same value)."""
    if message["type"] != "http.response.start":
        return
    quota = cast(dict[str, Any], scope).get(_SCOPE_KEY)
    if isinstance(quota, Quota):
        headers = list(message.get("headers", ()))
        present = {name.lower() for name, _ in headers}
        for name, value in quota.headers().items():
            encoded = name.lower().encode("latin-1")
            if encoded not in present:
                headers.append((encoded, value.encode("latin-1")))
        message["headers"] = headers


def rate_limited(_: Request[Any, Any, Any], exc: RateLimited) -> Response[Any]:
    seconds = exc.quota.retry_after_seconds
    response = problem(
        429,
        "rate-limited",
        "Too many requests",
        f"This API key sent more than {exc.quota.per_second:g} requests per second (bursts up "
        f"to {exc.quota.burst}). Retry in {seconds} s.",
    )
    response.headers["Retry-After"] = str(seconds)
    return response


# -- per client address -----------------------------------------------------------------------


def client_address(scope: Scope) -> str:
    """The bucket's address: the client's IPv4 address, or its IPv6 /64 (one host or LAN is
    given a whole /64, and can pick any address in it). Behind a reverse proxy, uvicorn has
    already put the forwarded client here (FORWARDED_ALLOW_IPS names the trusted proxies)."""
    client = scope.get("client")
    host = client[0] if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def public_error_answer(status: int, retry_after_seconds: int, scope: Scope) -> ASGIResponse:
    """The public pages' HTML error page (adapters/web/page.py, in the reader's language), answered
    from middleware, where no exception handler runs."""
    accept_language = next(
        (value.decode("latin-1") for name, value in scope["headers"] if name == b"accept-language"),
        None,
    )
    return ASGIResponse(
        body=render_error(status, accept_language).encode(),
        status_code=status,
        media_type=MediaType.HTML,
        headers={**ERROR_PAGE_HEADERS, "Retry-After": str(retry_after_seconds)},
    )


class PerAddressRateLimit:
    """ASGI middleware: one token per request on `paths` from the client address's bucket."""

    def __init__(self, app: ASGIApp, limits: RateLimitSettings, paths: tuple[str, ...]) -> None:
        self.app = app
        self.per_second = limits.page_per_second
        self.burst = limits.page_burst
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["path"].startswith(self.paths):
            pool = services(scope["litestar_app"].state).pool
            bucket = "page:" + client_address(scope)
            try:
                row = await pool.fetchrow(_sql("take"), bucket, self.per_second, self.burst)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                # The database is away: the page could not be served either (HTML 503).
                await public_error_answer(503, UNAVAILABLE_RETRY_AFTER_SECONDS, scope)(
                    scope, receive, send
                )
                return
            quota = _quota(row, self.per_second, self.burst)
            if not quota.allowed:
                seconds = quota.retry_after_seconds
                log.info("public page rate limited", bucket=bucket, retry_after=seconds)
                await public_error_answer(429, seconds, scope)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# -- housekeeping -----------------------------------------------------------------------------


def purge_after_seconds(limits: RateLimitSettings) -> float:
    """A bucket untouched for longer than its refill is full: dropping its row changes nothing."""
    refills = [
        burst / per_second
        for per_second, burst in (
            (limits.key_per_second, limits.key_burst),
            (limits.page_per_second, limits.page_burst),
        )
        if per_second > 0
    ]
    return max([PURGE_EVERY_SECONDS, *refills])


async def purge_full_buckets(pool: asyncpg.Pool, limits: RateLimitSettings) -> int:
    status: str = await pool.execute(_sql("purge"), purge_after_seconds(limits))
    return int(status.split()[-1])


async def purge_buckets_forever(pool: asyncpg.Pool, limits: RateLimitSettings) -> None:
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        try:
            purged = await purge_full_buckets(pool, limits)
            if purged:
                log.debug("full rate limit buckets purged", count=purged)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("rate limit bucket purge failed", error=str(exc))
