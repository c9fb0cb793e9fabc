"""`fastfaktura overdue sweep`: record `overdue` for every invoice past its due date."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

import asyncpg

from fastfaktura.cli.arguments import date_arg
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import out
from fastfaktura.config import Settings
from fastfaktura.readmodels.models import read_model


def cmd_overdue_sweep(args: argparse.Namespace, settings: Settings) -> int:
    from fastfaktura.policies.overdue import sweep

    today = date_arg(args.today, "--today") if args.today else datetime.now(UTC).date()
    ctx = Context(settings)
    ctx.migrate()
    ctx.catch_up([read_model("invoices")])  # the sweep reads its candidates from it

    async def run() -> int:
        pool = await asyncpg.create_pool(ctx.direct_url, min_size=1, max_size=2)
        try:
            return await sweep(pool, ctx.app, today)
        finally:
            await pool.close()

    try:
        marked = asyncio.run(run())
        ctx.catch_up([read_model("invoices")])
    finally:
        ctx.close()
    out.print(f"{marked} invoice(s) marked overdue as of {today.isoformat()}.")
    return 0
