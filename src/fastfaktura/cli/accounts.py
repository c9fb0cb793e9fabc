"""`fastfaktura accounts` and `fastfaktura keys`: businesses and their API keys."""

from __future__ import annotations

import argparse
import asyncio
import json

import asyncpg
from rich.table import Table

from fastfaktura.application import IssuedKey
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import err, out
from fastfaktura.config import Settings
from fastfaktura.domain.errors import ApiKeyNotFoundError, DomainError
from fastfaktura.readmodels.models import read_model
from fastfaktura.readmodels.queries.api_keys import KeyListing, list_keys
from fastfaktura.readmodels.queries.business import find_business


def cmd_accounts_create(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    try:
        issued = ctx.app.register_business(args.name, "live" if args.live else "sandbox").value
        ctx.catch_up()
        _print_key(issued, args.json)
    finally:
        ctx.close()
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    try:
        issued = ctx.app.issue_api_key(ctx.business(args.business)).value
        ctx.catch_up()
        _print_key(issued, args.json)
    except (DomainError, ValueError):
        err.print(f"No business {args.business}.")
        return 1
    finally:
        ctx.close()
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    business = ctx.business(args.business)
    ctx.catch_up([read_model("api_keys")])
    ctx.close()

    async def fetch() -> list[KeyListing]:
        conn = await asyncpg.connect(ctx.direct_url)
        try:
            if await find_business(conn, business) is None:
                raise SystemExit(f"No business {business}.")
            return await list_keys(conn, business)
        finally:
            await conn.close()

    keys = asyncio.run(fetch())
    table = Table("key_prefix", "mode", "issued_at", "revoked_at")
    for key in keys:
        table.add_row(key.key_prefix, key.mode, str(key.issued_at), str(key.revoked_at or ""))
    out.print(table)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    try:
        ctx.app.revoke_api_key(args.key_prefix)
        ctx.catch_up([read_model("api_keys")])
        out.print(f"Revoked {args.key_prefix}.")
        return 0
    except ApiKeyNotFoundError:
        err.print(f"No API key with prefix {args.key_prefix!r}.")
        return 1
    finally:
        ctx.close()


def _print_key(issued: IssuedKey, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "business_id": str(issued.business_id),
                    "api_key": issued.secret,
                    "key_prefix": issued.prefix,
                }
            )
        )
    else:
        out.print(f"business_id: {issued.business_id}")
        out.print(f"api_key:     {issued.secret}   (shown once: store it now)")
        out.print(f"key_prefix:  {issued.prefix}")
