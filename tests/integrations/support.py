"""Helpers of the webhook tests (no fixtures)."""

from __future__ import annotations

from typing import Any

import psycopg

from fastfaktura.adapters.webhooks.addresses import Resolver

ENDPOINTS = "/api/v1/webhook_endpoints"


def webhook_rows(database_url: str) -> dict[str, int]:
    """How many endpoints, deliveries and attempts are stored: a refusal must add none."""
    with psycopg.connect(database_url) as conn:
        counts = {}
        for table in ("webhook_endpoints", "webhook_deliveries", "webhook_attempts"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # constant names
            assert row is not None
            counts[table] = int(row[0])
        return counts


def fixed_resolver(names: dict[str, list[str]]) -> Resolver:
    """DNS as the test says: to prove the checks look at what a name resolves to."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise OSError(f"{host} does not resolve")
        return names[host]

    return resolve


def endpoint_body(url: str, events: list[str] | None = None, **more: Any) -> dict[str, Any]:
    return {"url": url, "events": ["*"] if events is None else events, **more}
