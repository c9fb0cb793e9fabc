"""Where a webhook may be sent (SSRF guard, API.md "Webhook endpoints").

Live businesses: `https` only, and every address the host resolves to must be public: no
loopback, private, shared (CGNAT), link-local (cloud metadata: 169.254.169.254), multicast,
unspecified or reserved network. Sandbox businesses may use `http` and loopback or private
addresses (local development), never link-local, multicast, unspecified or reserved ones.
Checked at registration and again before every delivery, after DNS resolution; the delivery
then connects to the address that was checked (sender.py), so a name cannot resolve to a
public address for the check and to a private one for the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
# (host, port) -> the addresses it resolves to, as text. Tests pass their own.
Resolver = Callable[[str, int], Awaitable[list[str]]]
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not the public internet


class UnsafeUrl(Exception):
    """The URL may not receive webhooks; the message says why (shown to the API caller)."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # without brackets for IPv6
    port: int
    literal: bool  # the host is an IP address


def parse_target(url: str, *, live: bool) -> Target:
    """The URL's parts, or UnsafeUrl for a URL no business may use (or this one not)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("is not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("must be an absolute http(s) URL")
    if live and parts.scheme != "https":
        raise UnsafeUrl("must use https (live businesses)")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("may not carry credentials")
    if parts.fragment or any(c.isspace() for c in url):
        raise UnsafeUrl("may not contain a fragment or whitespace")
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), literal)


def refusal(address: str, *, live: bool) -> str | None:
    """Why a delivery may not go to this address, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local:
        return f"{ip} is a link-local address (cloud metadata)"
    if ip.is_loopback:  # before "reserved": ::1 lies in the reserved ::/8
        return f"{ip} is a loopback address (live businesses)" if live else None
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{ip} is not a unicast address"
    if live and (ip.is_loopback or ip.is_private or ip in _SHARED or not ip.is_global):
        return f"{ip} is a private or non-public address (live businesses)"
    return None


async def checked_addresses(target: Target, *, live: bool, resolver: Resolver) -> list[str]:
    """The addresses to connect to, every one of them allowed; UnsafeUrl otherwise."""
    if target.literal:
        addresses = [target.host]
    else:
        try:
            addresses = await resolver(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeUrl(f"the host {target.host} does not resolve") from exc
        if not addresses:
            raise UnsafeUrl(f"the host {target.host} does not resolve")
    for address in addresses:
        reason = refusal(address, live=live)
        if reason is not None:
            raise UnsafeUrl(f"refused: {target.host} -> {reason}")
    return addresses
