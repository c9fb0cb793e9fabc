"""`fastfaktura projections`: how far each read model is, run them (with the policies), rebuild."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading
from collections.abc import Sequence

import anyio.to_thread
import asyncpg
from rich.table import Table

from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.adapters.deadlines import create_read_pool
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import out, progress
from fastfaktura.config import Settings
from fastfaktura.readmodels.live import ProjectionSupervisor
from fastfaktura.readmodels.model import ReadModel
from fastfaktura.readmodels.models import READ_MODELS, read_model
from fastfaktura.readmodels.queries import positions
from fastfaktura.readmodels.rebuild import rebuild_many


def selected(names: Sequence[str], all_: bool) -> list[ReadModel]:
    """The read models named on the command line; every one with --all or no name."""
    if all_ or not names:
        return list(READ_MODELS)
    try:
        return [read_model(name) for name in names]
    except KeyError as exc:
        known = ", ".join(m.name for m in READ_MODELS)
        raise SystemExit(f"Unknown read model {exc.args[0]!r}; known: {known}") from None


def cmd_projections_status(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    ctx.close()
    rows = _status_rows(ctx.direct_url)
    if args.json:
        print(json.dumps([r.__dict__ for r in rows]))
        return 0
    table = Table("name", "position", "head", "lag")
    for row in rows:
        table.add_row(row.name, str(row.position), str(row.head), str(row.lag))
    out.print(table)
    return 0


def _status_rows(url: str) -> list[positions.ProjectionStatus]:
    async def fetch() -> list[positions.ProjectionStatus]:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            return await positions.status(pool, READ_MODELS)
        finally:
            await pool.close()

    return asyncio.run(fetch())


def cmd_projections_run(args: argparse.Namespace, settings: Settings) -> int:
    # The application the runners fold with and the policies command through: sized like the
    # API's write pool (budget.projections).
    ctx = Context(settings, app_pool=(settings.pools.write, settings.pools.write_overflow))
    ctx.migrate()
    env = ConnectionParams.from_url(ctx.direct_url).eventsourcing_env(
        pool_size=1, max_overflow=0, timeout=settings.database_timeout
    )
    supervisor = ProjectionSupervisor(
        ctx.direct_url,
        env,
        ctx.events,
        selected(args.names, args.all),
        connect_timeout=settings.database_timeout,
    )
    stop = threading.Event()
    # SIGTERM (a process manager stopping us) ends the loop like Ctrl-C: runners stop cleanly.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    supervisor.start()
    # The policies (delivery worker, overdue sweep) run next to the projections.
    policies = threading.Thread(target=_run_policies, args=(ctx, settings, stop), name="policies")
    policies.start()
    out.print("Projections and policies running; Ctrl-C or SIGTERM to stop.")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        stop.set()
    finally:
        policies.join(timeout=10)
        supervisor.stop()
        ctx.close()
    return 0


def _run_policies(ctx: Context, settings: Settings, stop: threading.Event) -> None:
    from fastfaktura.adapters.pdf.pool import PdfRenderPool
    from fastfaktura.adapters.stripe_gateway import StripeGateway
    from fastfaktura.policies.start import start_policies

    async def main() -> None:
        # Commands run in worker threads, each holding one of the application's connections.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.pools.write_max
        pool = await create_read_pool(
            ctx.direct_url,
            min_size=1,
            max_size=settings.pools.policies,
            deadline=settings.database_timeout,
        )
        # The delivery worker renders the PDFs it attaches to emails in worker processes too.
        pdfs = PdfRenderPool(settings.pdf)
        await pdfs.start()
        policies = start_policies(pool, ctx.app, settings, StripeGateway(settings.stripe), pdfs)
        try:
            while not stop.is_set():
                await asyncio.sleep(0.5)
        finally:
            for task in policies.tasks:
                task.cancel()
            await asyncio.gather(*policies.tasks, return_exceptions=True)
            await pdfs.close()
            await pool.close()

    asyncio.run(main())


def cmd_projections_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    models = selected(args.names, args.all)
    try:
        with progress() as bars:
            # One pass over the store rebuilds them all (readmodels/backfill.py).
            task = bars.add_task(f"rebuild {', '.join(m.name for m in models)}", total=None)

            def advance(position: int, head: int) -> None:
                bars.update(task, completed=position, total=head)

            results = rebuild_many(
                ctx.events,
                ctx.direct_url,
                models,
                workers=settings.pools.cli_workers,
                progress=advance,
            )
            bars.update(task, completed=1, total=1)
        for result in results:
            out.print(f"{result.name}: {result.events} events, swapped in at {result.position}")
    finally:
        ctx.close()
    return 0
