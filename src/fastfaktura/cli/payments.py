"""`fastfaktura payments`: the Stripe webhook inbox (docs/payments.md): list it, send an event
back to the payments worker, or close one handled by hand; and the card refunds the worker made
or could not make."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from rich.table import Table
from rich.text import Text

from fastfaktura.adapters.stripe_inbox import inbox_sql
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import err, out, plain, print_whole
from fastfaktura.config import Settings

INBOX_STATUSES = ("received", "applied", "ignored", "needs_attention", "resolved")
INBOX_COLUMNS = (
    "event_id",
    "type",
    "livemode",
    "payment_intent_id",
    "received_at",
    "deliveries",
    "status",
    "outcome",
    "business_id",
    "invoice_id",
    "processed_at",
)

REFUND_STATUSES = ("retrying", "done", "needs_attention")
REFUND_COLUMNS = (
    "credit_note_id",
    "business_id",
    "status",
    "attempts",
    "next_attempt_at",
    "outcome",
    "updated_at",
)

T = TypeVar("T")


# -- the inbox's queries (named statements in adapters/stripe_inbox.sql, which the webhook
# endpoint and the payments worker share) -----------------------------------------------------


async def list_inbox(conn: asyncpg.Connection, status: str | None, limit: int) -> list[Any]:
    """Newest first; every status when `status` is None."""
    return list(await conn.fetch(inbox_sql("list_webhooks"), status, limit))


async def retry_event(conn: asyncpg.Connection, event_id: str) -> bool:
    """Back to `received`, if it needed attention or was ignored: whether it was."""
    return await conn.fetchval(inbox_sql("retry_webhook"), event_id) is not None


async def resolve_event(conn: asyncpg.Connection, event_id: str, note: str) -> bool:
    """`resolved`, the note appended to its outcome, if it needed attention: whether it did."""
    return await conn.fetchval(inbox_sql("resolve_webhook"), event_id, note) is not None


def _on_inbox(settings: Settings, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run one query on a connection of its own to the migrated database."""
    ctx = Context(settings)
    ctx.migrate()
    ctx.close()

    async def run() -> T:
        conn = await asyncpg.connect(ctx.direct_url)
        try:
            return await query(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


# -- commands -----------------------------------------------------------------------------------


def cmd_payments_inbox(args: argparse.Namespace, settings: Settings) -> int:
    """The Stripe webhook inbox, newest first. Exit status 1 when events need attention (the
    `needs_attention` listing, the default, is not empty): a monitor can alert on it."""
    status = None if args.status == "all" else args.status
    rows = [
        _inbox_row(row)
        for row in _on_inbox(settings, lambda conn: list_inbox(conn, status, args.limit))
    ]
    alert = status == "needs_attention" and bool(rows)
    if args.json:
        print(json.dumps(rows))
        return 1 if alert else 0
    if not rows:
        out.print(f"No Stripe events with status {args.status}.")
        return 0
    table = Table()
    for header in ("event id", "type", "PaymentIntent", "received at", "deliveries", "status"):
        table.add_column(header, no_wrap=True)
    table.add_column("outcome", max_width=60)
    for header in ("business", "invoice"):
        table.add_column(header, no_wrap=True)
    for row in rows:
        cells = (
            row["event_id"],
            row["type"],
            row["payment_intent_id"] or "",
            row["received_at"][:19] + "Z",
            str(row["deliveries"]),
            row["status"],
            row["outcome"] or "",
            row["business_id"] or "",
            row["invoice_id"] or "",
        )
        table.add_row(*(Text(cell) for cell in cells))  # Text: Stripe's data is never markup
    print_whole(table)
    if alert:
        err.print(
            f"{len(rows)} Stripe event(s) need attention (docs/payments.md); after fixing the "
            "cause, `fastfaktura payments retry EVENT_ID` sends one back to the payments worker.",
            soft_wrap=True,
        )
    return 1 if alert else 0


def _inbox_row(row: Any) -> dict[str, Any]:
    """A stripe_inbox row as JSON-ready data (ids as text, timestamps RFC 3339)."""
    values = {column: row[column] for column in INBOX_COLUMNS}
    for column in ("business_id", "invoice_id"):
        if values[column] is not None:
            values[column] = str(values[column])
    ready: dict[str, Any] = plain(values)
    return ready


def cmd_payments_retry(args: argparse.Namespace, settings: Settings) -> int:
    if not _on_inbox(settings, lambda conn: retry_event(conn, args.event_id)):
        err.print(
            f"No Stripe event {args.event_id!r} with status needs_attention or ignored "
            "(see `fastfaktura payments inbox --status all`).",
            soft_wrap=True,
            markup=False,
        )
        return 1
    out.print(
        f"Stripe event {args.event_id} sent back to the payments worker (status received): "
        "the process that runs the policies (serve, or projections run) applies it again.",
        soft_wrap=True,
        markup=False,
    )
    return 0


def cmd_payments_resolve(args: argparse.Namespace, settings: Settings) -> int:
    if not _on_inbox(settings, lambda conn: resolve_event(conn, args.event_id, args.note)):
        err.print(
            f"No Stripe event {args.event_id!r} with status needs_attention "
            "(see `fastfaktura payments inbox --status all`).",
            soft_wrap=True,
            markup=False,
        )
        return 1
    out.print(
        f"Stripe event {args.event_id} resolved (kept, with your note): it no longer needs "
        "attention.",
        soft_wrap=True,
        markup=False,
    )
    return 0


# -- card refunds (card_refunds, policies/card_refunds.py) -------------------------------------


async def list_card_refunds(conn: asyncpg.Connection, status: str | None, limit: int) -> list[Any]:
    return list(await conn.fetch(inbox_sql("list_card_refunds"), status, limit))


def cmd_payments_refunds(args: argparse.Namespace, settings: Settings) -> int:
    """The credit notes the payments worker refunds (or tried to) by card, newest first. Exit
    status 1 when some need attention (the default listing is not empty)."""
    status = None if args.status == "all" else args.status
    rows = [
        _refund_row(row)
        for row in _on_inbox(settings, lambda conn: list_card_refunds(conn, status, args.limit))
    ]
    alert = status == "needs_attention" and bool(rows)
    if args.json:
        print(json.dumps(rows))
        return 1 if alert else 0
    if not rows:
        out.print(f"No card refunds with status {args.status}.")
        return 0
    table = Table()
    for header in ("credit note", "business", "status", "attempts", "updated at"):
        table.add_column(header, no_wrap=True)
    table.add_column("outcome", max_width=70)
    for row in rows:
        cells = (
            row["credit_note_id"],
            row["business_id"],
            row["status"],
            str(row["attempts"]),
            row["updated_at"][:19] + "Z",
            row["outcome"] or "",
        )
        table.add_row(*(Text(cell) for cell in cells))  # Text: Stripe's messages are not markup
    print_whole(table)
    if alert:
        err.print(
            f"{len(rows)} card refund(s) need attention (docs/payments.md#refunds): refund "
            "by other means if still owed, then record it with POST /credit_notes/{id}/refunds.",
            soft_wrap=True,
        )
    return 1 if alert else 0


def _refund_row(row: Any) -> dict[str, Any]:
    values = {column: row[column] for column in REFUND_COLUMNS}
    for column in ("credit_note_id", "business_id"):
        values[column] = str(values[column])
    ready: dict[str, Any] = plain(values)
    return ready
