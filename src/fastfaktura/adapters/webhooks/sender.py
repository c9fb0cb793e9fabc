"""One webhook delivery over HTTP (Standard Webhooks): sign, check where it goes, POST.

The signature is the `standardwebhooks` library's: `v1,` + base64 HMAC-SHA256 of
`{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret. The address is checked
after DNS resolution (addresses.py) and the connection goes to that very address (the URL's
host stays in the Host header and in TLS SNI and certificate checks), so a name cannot pass
the check with one address and connect to another. Redirects are never followed (a 3xx is a
failure), and the whole exchange has one deadline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from fastfaktura.adapters.webhooks.addresses import (
    Resolver,
    Target,
    UnsafeUrl,
    checked_addresses,
    parse_target,
    system_resolver,
)

USER_AGENT = "FastFaktura-Webhooks/1"
MAX_ERROR = 500


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def _pinned(url: str, target: Target, address: str) -> tuple[str, str]:
    """The URL aimed at the checked address, and the Host header that keeps the name."""
    parts = urlsplit(url)
    ip = f"[{address}]" if ":" in address else address
    default = 443 if target.scheme == "https" else 80
    port = "" if parts.port is None else f":{parts.port}"
    host = parts.hostname or target.host
    shown_host = f"[{host}]" if ":" in host else host
    return (
        urlunsplit(parts._replace(netloc=f"{ip}{port or (':' + str(default))}")),
        f"{shown_host}{port}",
    )


@dataclass
class WebhookSender:
    timeout: float = 10.0
    resolver: Resolver = system_resolver
    # One client per host name: pooled connections (keyed by address) are then never shared
    # between names that live on one address, each with its own TLS name.
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def _client(self, target: Target) -> httpx.AsyncClient:
        key = f"{target.scheme}://{target.host}:{target.port}"
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = httpx.AsyncClient(
                follow_redirects=False, timeout=self.timeout, trust_env=False
            )
        return client

    async def send(
        self, url: str, secret: str, message_id: str, body: bytes, *, live: bool
    ) -> Outcome:
        started = time.monotonic()

        def outcome(status_code: int | None, error: str | None) -> Outcome:
            elapsed = int((time.monotonic() - started) * 1000)
            return Outcome(status_code, None if error is None else error[:MAX_ERROR], elapsed)

        try:
            target = parse_target(url, live=live)
            addresses = await checked_addresses(target, live=live, resolver=self.resolver)
        except UnsafeUrl as exc:
            return outcome(None, f"not sent: {exc}")
        pinned_url, host = _pinned(url, target, addresses[0])
        headers = {"host": host, **signed_headers(secret, message_id, body, datetime.now(UTC))}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client(target).post(
                    pinned_url, content=body, headers=headers, extensions=extensions
                )
        except (TimeoutError, httpx.TimeoutException):
            return outcome(None, f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return outcome(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        if response.is_redirect:
            location = response.headers.get("location", "")
            return outcome(response.status_code, f"redirect not followed (to {location})")
        if not response.is_success:
            return outcome(response.status_code, f"HTTP {response.status_code}")
        return outcome(response.status_code, None)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
