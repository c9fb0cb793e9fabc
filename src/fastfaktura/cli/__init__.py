"""The `fastfaktura` command: serve, accounts, keys, db, projections, audit, payments (API.md,
Operations)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import anyio.to_thread
import asyncpg
import msgspec
import structlog
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from fastfaktura import logs
from fastfaktura.adapters import budget
from fastfaktura.adapters.database import (
    ConnectionParams,
    migrate,
    resolve_database_url,
    with_application_name,
)
from fastfaktura.adapters.deadlines import create_read_pool
from fastfaktura.application import Invoicing, IssuedKey
from fastfaktura.config import Settings
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import ApiKeyNotFoundError, DomainError
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels import audit, queries
from fastfaktura.readmodels.engine import ProjectionSupervisor, catch_up, loader, rebuild
from fastfaktura.readmodels.model import ReadModel
from fastfaktura.readmodels.models import READ_MODELS, read_model
from fastfaktura.readmodels.sql import statement

log = structlog.get_logger("fastfaktura.cli")
out = Console()
err = Console(stderr=True)


class Context:
    """Settings, the database (embedded unless DATABASE_URL), migrated, and the application.

    `database_url` is what the API serves on (maybe a transaction pooler); `direct_url` is
    PostgreSQL itself (DATABASE_DIRECT_URL, else the same), for everything else the CLI does.
    """

    # Every connection of this process says which command opened it (pg_stat_activity);
    # main() sets it.
    application_name = "fastfaktura"

    def __init__(
        self,
        settings: Settings,
        *,
        keep_db_running: bool = False,
        app_pool: tuple[int, int] = (budget.CLI_APP_POOL_SIZE, budget.CLI_APP_POOL_OVERFLOW),
    ) -> None:
        self.settings = settings
        url = resolve_database_url(
            settings.database_url, settings.home, keep_running=keep_db_running
        )
        self.database_url = with_application_name(url, self.application_name)
        self.direct_url = with_application_name(
            settings.pools.direct_url or url, self.application_name
        )
        self._app_pool = app_pool
        migrate(self.direct_url)
        self._app: Invoicing | None = None

    @property
    def app(self) -> Invoicing:
        if self._app is None:
            size, overflow = self._app_pool
            env = ConnectionParams.from_url(self.direct_url).eventsourcing_env(
                pool_size=size, max_overflow=overflow
            )
            self._app = Invoicing(env)
        return self._app

    def catch_up(self, models: Sequence[ReadModel] = READ_MODELS) -> None:
        """Bring read models up to date now, so a CLI write is visible without a server."""
        for model in models:
            catch_up(self.app, self.direct_url, model)

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


# -- serve --------------------------------------------------------------------------------------


def _demo_account(ctx: Context) -> IssuedKey:
    """The sandbox demo account: created on first run, its key kept in $FASTFAKTURA_HOME."""
    path = ctx.settings.home / "demo-account.json"
    if path.exists():
        saved = json.loads(path.read_text())
        try:
            ctx.app.get(Business, UUID(saved["business_id"]))
            return IssuedKey(UUID(saved["business_id"]), saved["api_key"], saved["key_prefix"])
        except DomainError:
            pass  # the database was reset: make a new one
    issued = ctx.app.register_business(
        "Demo Company",
        "sandbox",
        legal_name="Demo Company SAS",
        country="FR",
        currency="EUR",
        locale="en",
    ).value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "business_id": str(issued.business_id),
                "api_key": issued.secret,
                "key_prefix": issued.prefix,
            }
        )
    )
    path.chmod(0o600)
    return issued


def _card_payments(settings: Settings) -> str:
    """Whether the demo (a sandbox business) can take card payments, and how to turn them on."""
    stripe = settings.stripe
    if stripe.test_secret_key is None:
        return "off (set STRIPE_TEST_SECRET_KEY and STRIPE_TEST_PUBLISHABLE_KEY: docs/payments.md)"
    where = f"at {stripe.api_base}" if stripe.api_base else "test mode"
    button = "" if stripe.test_publishable_key else ", no pay button (no publishable key)"
    webhook = "" if stripe.webhook_secrets else ", webhooks refused (no STRIPE_WEBHOOK_SECRET)"
    return f"Stripe {where}{button}{webhook}"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from fastfaktura.api.app import create_app

    settings = Settings(
        **{
            **{f: getattr(settings, f) for f in settings.__struct_fields__},
            "host": args.host,
            "port": args.port,
        }
    )
    ctx = Context(settings)
    if args.demo:
        demo = _demo_account(ctx)
        ctx.catch_up()
        base = settings.base_url()
        print(f"\nFastFaktura sandbox demo account {demo.business_id}")
        print(f"  API key : {demo.secret}")
        print(f"  API base: {base}/api/v1")
        print(f"  Docs    : {base}/schema  (OpenAPI: {base}/schema/openapi.json)")
        print(f"  Cards   : {_card_payments(settings)}")
        print(
            f'  Try     : curl -H "X-Api-Key: {demo.secret}" {base}/api/v1/business\n', flush=True
        )
    ctx.close()
    app = create_app(
        settings,
        ctx.database_url,
        run_projections=not args.no_projections,
        direct_url=ctx.direct_url,
    )
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # kills the process before exit handlers run, and the embedded PostgreSQL stays up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    return 0


# -- accounts and keys --------------------------------------------------------------------------


def uuid_arg(value: str, option: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise SystemExit(f"{option} must be a UUID, not {value!r}.") from None


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


def cmd_accounts_create(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    try:
        issued = ctx.app.register_business(args.name, "live" if args.live else "sandbox").value
        ctx.catch_up()
        _print_key(issued, args.json)
    finally:
        ctx.close()
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    try:
        issued = ctx.app.issue_api_key(uuid_arg(args.business, "--business")).value
        ctx.catch_up()
        _print_key(issued, args.json)
    except (DomainError, ValueError):
        err.print(f"No business {args.business}.")
        return 1
    finally:
        ctx.close()
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    business = uuid_arg(args.business, "--business")
    ctx = Context(settings)
    ctx.catch_up([read_model("api_keys")])
    ctx.close()

    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(ctx.direct_url)
        try:
            if (
                await conn.fetchrow(statement("business", "queries.sql", "get_business"), business)
                is None
            ):
                raise SystemExit(f"No business {business}.")
            return list(
                await conn.fetch(statement("api_keys", "queries.sql", "list_keys"), business)
            )
        finally:
            await conn.close()

    rows = asyncio.run(fetch())
    table = Table("key_prefix", "mode", "issued_at", "revoked_at")
    for row in rows:
        table.add_row(
            row["key_prefix"], row["mode"], str(row["issued_at"]), str(row["revoked_at"] or "")
        )
    out.print(table)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
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


# -- db -------------------------------------------------------------------------------------


def cmd_db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.pools.direct_url or resolve_database_url(settings.database_url, settings.home)
    applied = migrate(with_application_name(url, Context.application_name))
    out.print(
        f"{len(applied)} migration(s) applied" + (": " + ", ".join(applied) if applied else "")
    )
    return 0


def cmd_db_url(args: argparse.Namespace, settings: Settings) -> int:
    # Keep an embedded server running after this process exits, so `psql "$(...)"` works.
    print(resolve_database_url(settings.database_url, settings.home, keep_running=True))
    return 0


# -- projections and audit ----------------------------------------------------------------------


def _selected(names: Sequence[str], all_: bool) -> list[ReadModel]:
    if all_ or not names:
        return list(READ_MODELS)
    try:
        return [read_model(name) for name in names]
    except KeyError as exc:
        known = ", ".join(m.name for m in READ_MODELS)
        raise SystemExit(f"Unknown read model {exc.args[0]!r}; known: {known}") from None


def _status_rows(url: str) -> list[queries.ProjectionStatus]:
    async def fetch() -> list[queries.ProjectionStatus]:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            return await queries.status(pool, READ_MODELS)
        finally:
            await pool.close()

    return asyncio.run(fetch())


def cmd_projections_status(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
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


def cmd_projections_run(args: argparse.Namespace, settings: Settings) -> int:
    # The application the runners fold with and the policies command through: sized like the
    # API's write pool (budget.projections).
    ctx = Context(settings, app_pool=(settings.pools.write, settings.pools.write_overflow))
    env = ConnectionParams.from_url(ctx.direct_url).eventsourcing_env(
        pool_size=1, max_overflow=0, timeout=settings.database_timeout
    )
    supervisor = ProjectionSupervisor(
        ctx.direct_url,
        env,
        loader(ctx.app),
        _selected(args.names, args.all),
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
    from fastfaktura.documents.pool import PdfRenderPool
    from fastfaktura.payments.gateway import StripeGateway
    from fastfaktura.policies import start_policies

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
    try:
        with _progress() as progress:
            for model in _selected(args.names, args.all):
                task = progress.add_task(f"rebuild {model.name}", total=None)

                def advance(position: int, head: int, task: Any = task) -> None:
                    progress.update(task, completed=position, total=head)

                result = rebuild(
                    ctx.app,
                    ctx.direct_url,
                    model,
                    workers=settings.pools.cli_workers,
                    progress=advance,
                )
                progress.update(task, completed=1, total=1)
                out.print(f"{result.name}: {result.events} events, swapped in at {result.position}")
    finally:
        ctx.close()
    return 0


def cmd_audit_replay(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    business = uuid_arg(args.business, "--business") if args.business else None
    try:
        if args.as_of or args.invoice:
            return _print_as_of(ctx, args, business)
        differences: list[audit.Difference] = []
        with _progress() as progress:
            for model in READ_MODELS:
                task = progress.add_task(f"replay {model.name}", total=None)

                def advance(_: str, count: int, task: Any = task) -> None:
                    progress.advance(task, count)

                differences += audit.compare(
                    ctx.app,
                    ctx.direct_url,
                    model,
                    business_id=business,
                    progress=advance,
                    workers=settings.pools.cli_workers,
                )
    finally:
        ctx.close()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not differences,
                    "differences": [d.__dict__ | {"text": str(d)} for d in differences],
                }
            )
        )
    elif differences:
        for difference in differences:
            out.print(f"[red]DIFF[/red] {difference}")
        out.print(f"{len(differences)} difference(s) between the events and the read models.")
    else:
        out.print("Read models agree with the events.")
    return 1 if differences else 0


def _print_as_of(ctx: Context, args: argparse.Namespace, business: UUID | None) -> int:
    """Print states rebuilt from events up to --as-of (default: now); --invoice: that one."""
    as_of = datetime.now(UTC)
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of.replace("Z", "+00:00"))
        except ValueError:
            raise SystemExit(
                f"--as-of must be an RFC 3339 timestamp, not {args.as_of!r}."
            ) from None
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
    states: list[dict[str, Any]] = []
    if args.invoice:
        try:
            invoice = ctx.app.get(Invoice, uuid_arg(args.invoice, "--invoice"), business)
        except DomainError:
            err.print(f"No invoice {args.invoice}.")
            return 1
        events = [e for e in ctx.app.events.get(invoice.id) if getattr(e, "timestamp") <= as_of]  # noqa: B009
        if not events:
            err.print(f"Invoice {args.invoice} did not exist at {as_of.isoformat()}.")
            return 1
        state: Any = None
        for domain_event in events:
            state = cast(Any, domain_event).mutate(state)
        for row in read_model("invoices").rows(state)["rm_invoices"]:
            states.append({"table": "rm_invoices", **{k: _plain(v) for k, v in row.items()}})
    else:
        for model in READ_MODELS:
            for replayed in audit.replay_states(ctx.app, model, as_of=as_of).values():
                for table, rows in model.rows(replayed).items():
                    for row in rows:
                        if business is None or row.get("business_id") == business:
                            states.append(
                                {"table": table, **{k: _plain(v) for k, v in row.items()}}
                            )
    print(
        json.dumps({"as_of": as_of.isoformat(), "states": states}, indent=None if args.json else 2)
    )
    return 0


def _plain(value: Any) -> Any:
    """A value as JSON-ready data (msgspec knows UUID, datetime, date and Decimal)."""
    return msgspec.json.decode(msgspec.json.encode(value))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


# -- overdue --------------------------------------------------------------------------------


def cmd_overdue_sweep(args: argparse.Namespace, settings: Settings) -> int:
    from fastfaktura.overdue import sweep

    try:
        today = date.fromisoformat(args.today) if args.today else datetime.now(UTC).date()
    except ValueError:
        raise SystemExit(f"--today must be a date, YYYY-MM-DD, not {args.today!r}.") from None
    ctx = Context(settings)
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


# -- payments -----------------------------------------------------------------------------------

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


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return number


def _payments_sql(name: str) -> str:
    return statement("_payments", "queries.sql", name)


def _inbox_row(row: Any) -> dict[str, Any]:
    """A stripe_inbox row as JSON-ready data (ids as text, timestamps RFC 3339)."""
    values = {column: row[column] for column in INBOX_COLUMNS}
    for column in ("business_id", "invoice_id"):
        if values[column] is not None:
            values[column] = str(values[column])
    plain: dict[str, Any] = _plain(values)
    return plain


def cmd_payments_inbox(args: argparse.Namespace, settings: Settings) -> int:
    """The Stripe webhook inbox, newest first. Exit status 1 when events need attention (the
    `needs_attention` listing, the default, is not empty): a monitor can alert on it."""
    ctx = Context(settings)
    ctx.close()
    status = None if args.status == "all" else args.status

    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(ctx.direct_url)
        try:
            return list(await conn.fetch(_payments_sql("list_webhooks"), status, args.limit))
        finally:
            await conn.close()

    rows = [_inbox_row(row) for row in asyncio.run(fetch())]
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
    _print_whole(table)
    if alert:
        err.print(
            f"{len(rows)} Stripe event(s) need attention (docs/payments.md); after fixing the "
            "cause, `fastfaktura payments retry EVENT_ID` sends one back to the payments worker.",
            soft_wrap=True,
        )
    return 1 if alert else 0


def _print_whole(table: Table) -> None:
    """Print the table at its natural width, however narrow the terminal (or 80 columns when
    not a terminal: a pipe, a cron mail): ids are never cut, so they can be copied."""
    width = Measurement.get(out, out.options.update(width=10_000), table).maximum
    Console(width=max(width, out.width)).print(table)


def _change_inbox_row(settings: Settings, statement_name: str, *params: str) -> bool:
    """Run one of the inbox's UPDATE ... RETURNING statements: whether it changed a row."""
    ctx = Context(settings)
    ctx.close()

    async def change() -> bool:
        conn = await asyncpg.connect(ctx.direct_url)
        try:
            return await conn.fetchval(_payments_sql(statement_name), *params) is not None
        finally:
            await conn.close()

    return asyncio.run(change())


def cmd_payments_retry(args: argparse.Namespace, settings: Settings) -> int:
    if not _change_inbox_row(settings, "retry_webhook", args.event_id):
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
    if not _change_inbox_row(settings, "resolve_webhook", args.event_id, args.note):
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


# -- parser -------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="fastfaktura", description="FastFaktura invoicing service")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, run projections, serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="create/print the sandbox demo account")
    serve.add_argument("--no-projections", action="store_true", help="another process runs them")
    serve.set_defaults(run=cmd_serve)

    accounts = commands.add_parser("accounts").add_subparsers(dest="sub", required=True)
    create = accounts.add_parser("create", help="a business and its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--live", action="store_true")
    create.add_argument("--json", action="store_true")
    create.set_defaults(run=cmd_accounts_create)

    keys = commands.add_parser("keys").add_subparsers(dest="sub", required=True)
    key_create = keys.add_parser("create")
    key_create.add_argument("--business", required=True)
    key_create.add_argument("--json", action="store_true")
    key_create.set_defaults(run=cmd_keys_create)
    key_list = keys.add_parser("list")
    key_list.add_argument("--business", required=True)
    key_list.set_defaults(run=cmd_keys_list)
    key_revoke = keys.add_parser("revoke")
    key_revoke.add_argument("key_prefix")
    key_revoke.set_defaults(run=cmd_keys_revoke)

    db = commands.add_parser("db").add_subparsers(dest="sub", required=True)
    db.add_parser("migrate").set_defaults(run=cmd_db_migrate)
    db.add_parser("url").set_defaults(run=cmd_db_url)

    projections = commands.add_parser("projections").add_subparsers(dest="sub", required=True)
    status = projections.add_parser("status")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_projections_status)
    for name, run in (("run", cmd_projections_run), ("rebuild", cmd_projections_rebuild)):
        sub = projections.add_parser(name)
        sub.add_argument("names", nargs="*")
        sub.add_argument("--all", action="store_true")
        sub.set_defaults(run=run)

    overdue = commands.add_parser("overdue").add_subparsers(dest="sub", required=True)
    sweep_cmd = overdue.add_parser("sweep", help="record `overdue` for every invoice past due")
    sweep_cmd.add_argument("--today", help="YYYY-MM-DD (default: today, UTC)")
    sweep_cmd.set_defaults(run=cmd_overdue_sweep)

    audit_cmd = commands.add_parser("audit").add_subparsers(dest="sub", required=True)
    replay = audit_cmd.add_parser(
        "replay", help="rebuild aggregates from events, compare with read models"
    )
    replay.add_argument("--business")
    replay.add_argument("--invoice", help="only this invoice (with --as-of: print it as it stood)")
    replay.add_argument("--as-of", dest="as_of", help="print the state as it stood then (RFC 3339)")
    replay.add_argument("--json", action="store_true")
    replay.set_defaults(run=cmd_audit_replay)

    payments = commands.add_parser(
        "payments", help="the Stripe webhook inbox (docs/payments.md)"
    ).add_subparsers(dest="sub", required=True)
    inbox = payments.add_parser(
        "inbox",
        help="list Stripe webhook events, newest first; exit 1 when some need attention",
    )
    inbox.add_argument(
        "--status",
        choices=[*INBOX_STATUSES, "all"],
        default="needs_attention",
        help="default: needs_attention",
    )
    inbox.add_argument("--limit", type=positive_int, default=50, help="default: 50")
    inbox.add_argument("--json", action="store_true")
    inbox.set_defaults(run=cmd_payments_inbox)
    retry = payments.add_parser(
        "retry", help="send a needs_attention or ignored event back to the payments worker"
    )
    retry.add_argument("event_id", help="the Stripe event id (evt_...)")
    retry.set_defaults(run=cmd_payments_retry)
    resolve = payments.add_parser(
        "resolve",
        help="close a needs_attention event that was handled by hand (a refund, say), with a note",
    )
    resolve.add_argument("event_id", help="the Stripe event id (evt_...)")
    resolve.add_argument("--note", required=True, help="what was done, for the record")
    resolve.set_defaults(run=cmd_payments_resolve)
    return root


def _role(args: argparse.Namespace) -> str:
    """What this process is, for pg_stat_activity: api, serve, projections or the command."""
    if args.command == "serve":
        return "api" if args.no_projections else "serve"
    if args.command == "projections" and args.sub == "run":
        return "projections"
    return " ".join(filter(None, (args.command, getattr(args, "sub", None))))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    Context.application_name = f"fastfaktura {_role(args)} {os.getpid()}"
    logs.configure(json=settings.log_json)
    # pgserver keeps its inter-process lock in the runtime dir; give it a private one.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(settings.home).resolve() / "run"))
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    result: int = args.run(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
