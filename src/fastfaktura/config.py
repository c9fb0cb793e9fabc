"""Settings, read once from the environment by the composition roots (cli, create_app)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

STRIPE_JS_URL = "https://js.stripe.com/v3/"
# Where localstripe (and the tests' server) serves its stand-in for Stripe.js.
LOCAL_STRIPE_JS_PATH = "/js.stripe.com/v3/"


class StripeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Card payments (docs/payments.md). Sandbox businesses use the test keys, live ones the
    live keys; a mode without its secret key offers no card payment."""

    test_secret_key: str | None = None
    live_secret_key: str | None = None
    test_publishable_key: str | None = None
    live_publishable_key: str | None = None
    # Signing secrets of the webhook endpoints (whsec_...): several during a rotation, or one
    # for the test-mode and one for the live-mode endpoint (STRIPE_WEBHOOK_SECRET, comma-separated).
    webhook_secrets: tuple[str, ...] = ()
    # Every Stripe API call goes there when set (a local Stripe-compatible server).
    api_base: str | None = None
    js_url: str = STRIPE_JS_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StripeSettings:
        api_base = (env.get("STRIPE_API_BASE") or "").rstrip("/") or None
        default_js = f"{api_base}{LOCAL_STRIPE_JS_PATH}" if api_base else STRIPE_JS_URL
        secrets = (env.get("STRIPE_WEBHOOK_SECRET") or "").split(",")
        return cls(
            test_secret_key=env.get("STRIPE_TEST_SECRET_KEY") or None,
            live_secret_key=env.get("STRIPE_LIVE_SECRET_KEY") or None,
            test_publishable_key=env.get("STRIPE_TEST_PUBLISHABLE_KEY") or None,
            live_publishable_key=env.get("STRIPE_LIVE_PUBLISHABLE_KEY") or None,
            webhook_secrets=tuple(s.strip() for s in secrets if s.strip()),
            api_base=api_base,
            js_url=env.get("STRIPE_JS_URL") or default_js,
        )

    def secret_key(self, mode: str) -> str | None:
        """The secret key for a business mode (`sandbox` -> test, `live` -> live)."""
        return self.live_secret_key if mode == "live" else self.test_secret_key

    def publishable_key(self, mode: str) -> str | None:
        return self.live_publishable_key if mode == "live" else self.test_publishable_key

    @property
    def modes(self) -> tuple[str, ...]:
        """The business modes that can take card payments (a secret key is configured)."""
        return tuple(mode for mode in ("sandbox", "live") if self.secret_key(mode))


def _positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Process settings. `database_url` None means: start the embedded PostgreSQL."""

    database_url: str | None = None
    home: Path = Path(".fastfaktura")
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str | None = None
    log_json: bool = False
    # How long a write waits for its read models before answering anyway (seconds).
    read_your_writes_timeout: float = 5.0
    # Live deliveries (sandbox businesses never use them).
    smtp_url: str | None = None
    sms_gateway_url: str | None = None
    mail_from: str = "invoices@fastfaktura.localhost"
    # How often `serve` runs the overdue sweep (seconds).
    overdue_sweep_seconds: float = 300.0
    stripe: StripeSettings = msgspec.field(default_factory=lambda: StripeSettings())
    # -- Deadlines (docs/operations.md "Deadlines and availability") -------------------------
    # The deadline of every database call, in seconds (FASTFAKTURA_DATABASE_TIMEOUT_SECONDS):
    # pool acquire, connect, each statement (server-side statement_timeout and client-side),
    # and how long a request waits for its command. Past it, or with the database
    # unreachable: 503 with Retry-After.
    database_timeout: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            home=Path(env.get("FASTFAKTURA_HOME") or ".fastfaktura"),
            public_base_url=env.get("PUBLIC_BASE_URL") or None,
            log_json=env.get("FASTFAKTURA_LOG_FORMAT", "").lower() == "json",
            smtp_url=env.get("SMTP_URL") or None,
            sms_gateway_url=env.get("SMS_GATEWAY_URL") or None,
            mail_from=env.get("FASTFAKTURA_MAIL_FROM") or "invoices@fastfaktura.localhost",
            overdue_sweep_seconds=float(env.get("FASTFAKTURA_OVERDUE_SWEEP_SECONDS") or 300),
            stripe=StripeSettings.from_env(env),
            database_timeout=_positive_seconds(env, "FASTFAKTURA_DATABASE_TIMEOUT_SECONDS", 5.0),
        )

    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")
