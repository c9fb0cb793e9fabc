"""`fastfaktura serve`: migrate, optionally set up the demo account, and serve the API: in one
process (--workers 1), or as N API processes and a projections process (cli/supervisor.py).
Every answer names the process that served it (`Server-Process: PID`)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import socket
import sys
from datetime import timedelta
from uuid import UUID

import structlog

from fastfaktura.adapters import budget
from fastfaktura.application import IssuedKey
from fastfaktura.cli.context import Context
from fastfaktura.cli.supervisor import (
    Child,
    Supervisor,
    api_socket,
    balances_connections,
    cores,
    fastfaktura_argv,
    pdf_workers_per_process,
    reserve_port,
)
from fastfaktura.cli.users import password_link_url
from fastfaktura.config import Settings
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import DomainError, EmailTaken
from fastfaktura.readmodels.models import READ_MODELS

log = structlog.get_logger(__name__)

DEMO_OWNER_EMAIL = "owner@demo.fastfaktura.localhost"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = Settings(
        **{
            **{f: getattr(settings, f) for f in settings.__struct_fields__},
            "host": args.host,
            "port": args.port,
        }
    )
    ctx = Context(settings)
    ctx.migrate()
    if args.shared_port:  # one API process of a supervised `serve`
        ctx.close()
        return _serve_api(args, settings, ctx, api_socket(args.host, args.port))
    if args.demo:
        demo = _demo_account(ctx)
        owner = _demo_owner(ctx, demo)
        ctx.catch_up()
        base = settings.base_url()
        print(f"\nFastFaktura sandbox demo account {demo.business_id}")
        print(f"  API key : {demo.secret}")
        print(f"  API base: {base}/api/v1")
        print(f"  Docs    : {base}/schema  (OpenAPI: {base}/schema/openapi.json)")
        print(f"  Account : {base}/account  (sign in at {base}/login)")
        print(f"  Owner   : {owner}")
        print(f"  Cards   : {_card_payments(settings)}")
        print(
            f'  Try     : curl -H "X-Api-Key: {demo.secret}" {base}/api/v1/business\n', flush=True
        )
    workers = _workers(args, settings, ctx)
    ctx.close()
    if workers == 1:
        return _serve_api(args, settings, ctx, None)
    return _supervise(args, settings, ctx, workers)


def _serve_api(
    args: argparse.Namespace, settings: Settings, ctx: Context, sock: socket.socket | None
) -> int:
    """Serve the API in this process (with the projections and policies unless
    --no-projections or a supervisor runs them), on `sock` when it is one of a supervisor's
    API processes."""
    import uvicorn

    from fastfaktura.api.app import create_app

    app = create_app(
        settings,
        ctx.database_url,
        run_projections=not args.no_projections and sock is None,
        direct_url=ctx.direct_url,
    )
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # kills the process before exit handlers run, and the embedded PostgreSQL stays up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Which process answered (docs/operations.md "Processes and cores"): its logs, its
    # pg_stat_activity name `fastfaktura api PID`, and the proof that a request crossed processes.
    named = [("Server-Process", str(os.getpid()))]
    # The modules and the app live as long as the process: out of the collector's way, or each
    # full collection under load walks them again (issue 12: 1.7 % of a GET's CPU).
    gc.collect()
    gc.freeze()
    if sock is None:
        uvicorn.run(
            app, host=args.host, port=args.port, log_config=None, access_log=False, headers=named
        )
    else:
        config = uvicorn.Config(app, log_config=None, access_log=False, headers=named)
        uvicorn.Server(config).run(sockets=[sock])
    return 0


def _workers(args: argparse.Namespace, settings: Settings, ctx: Context) -> int:
    """How many API processes: --workers, else FASTFAKTURA_WORKERS, else one per core as far
    as the connection budget allows on this PostgreSQL. An explicit number that does not fit
    is refused, naming the numbers (docs/operations.md "Connection budget")."""
    asked = args.workers if args.workers is not None else settings.workers
    if asked == 1:
        return 1
    if not balances_connections():
        if asked:
            raise SystemExit(
                f"--workers {asked}: several API processes need Linux (SO_REUSEPORT);"
                " use --workers 1"
            )
        return 1
    if settings.pools.direct_url:
        # DATABASE_URL is a transaction pooler: the API processes' connections are its own.
        return asked or cores()
    usable = _usable_connections(ctx.direct_url)
    fit = budget.workers_that_fit(
        settings.pools, len(READ_MODELS), usable, projections_too=not args.no_projections
    )
    if settings.replica.url:  # read replica: its connections count on its own server
        fit = min(fit, _replica_fit(settings))
    if asked > fit:
        raise SystemExit(
            f"--workers {asked}: {asked} API processes need {asked * budget.api(settings.pools)}"
            f" connections, more than PostgreSQL's {usable} usable ones leave after the"
            " projections process and one CLI command; raise max_connections or lower the"
            " pools (docs/operations.md, Connection budget)."
        )
    if asked:
        return asked
    chosen = max(1, min(cores(), fit))
    if chosen < cores():
        log.warning(
            "fewer API processes than cores: the connection budget", processes=chosen, cores=cores()
        )
    return chosen


def _usable_connections(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _supervise(args: argparse.Namespace, settings: Settings, ctx: Context, workers: int) -> int:
    try:
        held = reserve_port(args.host, args.port)
    except OSError as exc:
        raise SystemExit(f"port {args.port} on {args.host}: {exc.strerror}") from None
    api_argv = fastfaktura_argv(
        "serve", "--no-projections", "--host", args.host, "--port", str(args.port), "--shared-port"
    )
    children = [Child(f"api-{n}", api_argv) for n in range(1, workers + 1)]
    if not args.no_projections:
        children.append(Child("projections", fastfaktura_argv("projections", "run", "--all")))
    env = {**os.environ, "DATABASE_URL": ctx.url}
    if not os.environ.get("FASTFAKTURA_PDF_WORKERS"):
        # Every child runs a PDF pool: share the one-process default out between them.
        shared = pdf_workers_per_process(settings.pdf.workers, len(children))
        env["FASTFAKTURA_PDF_WORKERS"] = str(shared)
    print(
        f"Serving on http://{args.host}:{args.port}: {workers} API processes"
        + ("" if args.no_projections else " and the projections and policies process")
        + "; Ctrl-C to stop.",
        flush=True,
    )
    try:
        return Supervisor(children, env).run()
    finally:
        held.close()


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


def _demo_owner(ctx: Context, demo: IssuedKey) -> str:
    """The demo business's owner: on the first run, created with a one-time link (printed this
    once); afterwards only its email, and how to get a new link."""
    try:
        link = ctx.app.add_owner(
            demo.business_id,
            DEMO_OWNER_EMAIL,
            timedelta(hours=ctx.settings.accounts.password_link_hours),
        ).value
    except EmailTaken:
        return (
            f"{DEMO_OWNER_EMAIL} (a new sign-in link: fastfaktura users link --email "
            f"{DEMO_OWNER_EMAIL})"
        )
    return (
        f"{DEMO_OWNER_EMAIL}\n  Sign in : {password_link_url(ctx.settings, link)}\n"
        "            (one use, shown this once: it sets the owner's password and signs in)"
    )


def _card_payments(settings: Settings) -> str:
    """Whether the demo (a sandbox business) can take card payments, and how to turn them on."""
    stripe = settings.stripe
    if stripe.test_secret_key is None:
        return "off (set STRIPE_TEST_SECRET_KEY and STRIPE_TEST_PUBLISHABLE_KEY: docs/payments.md)"
    where = f"at {stripe.api_base}" if stripe.api_base else "test mode"
    button = "" if stripe.test_publishable_key else ", no pay button (no publishable key)"
    webhook = "" if stripe.webhook_secrets else ", webhooks refused (no STRIPE_WEBHOOK_SECRET)"
    return f"Stripe {where}{button}{webhook}"


# -- read replica (issue 12): the API processes' read pools must fit on the replica too -----


def _replica_fit(settings: Settings) -> int:
    import psycopg

    assert settings.replica.url is not None
    try:
        usable = _usable_connections(settings.replica.url)
    except psycopg.OperationalError as exc:
        # Reads go to the primary while the replica is away: it limits nothing now.
        log.warning("read replica unreachable at start", error=str(exc))
        return sys.maxsize
    fit = budget.replica_workers_that_fit(settings.replica, usable)
    log.info("API processes the read replica's connections allow", processes=fit)
    return fit
