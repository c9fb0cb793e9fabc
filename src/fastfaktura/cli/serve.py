"""`fastfaktura serve`: migrate, optionally set up the demo account, and serve the API."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from datetime import timedelta
from uuid import UUID

from fastfaktura.application import IssuedKey
from fastfaktura.cli.context import Context
from fastfaktura.cli.users import password_link_url
from fastfaktura.config import Settings
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import DomainError, EmailTaken

DEMO_OWNER_EMAIL = "owner@demo.fastfaktura.localhost"


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
    ctx.migrate()
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
