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


# -- PDF rendering pool (docs/operations.md "PDF rendering pool") ---------------------------
# WeasyPrint is CPU-bound and holds the GIL: PDFs render in worker processes, queued per
# business and bounded. Environment: FASTFAKTURA_PDF_WORKERS, FASTFAKTURA_PDF_BUSINESS_IN_FLIGHT,
# FASTFAKTURA_PDF_QUEUE, FASTFAKTURA_PDF_BUSINESS_QUEUE, FASTFAKTURA_PDF_RETRY_AFTER_SECONDS.


def default_pdf_workers() -> int:
    """One worker per core (up to 4) plus one: a business may keep every core busy (its cap
    is workers - 1), and the one more worker is always there for the other businesses."""
    return min(os.cpu_count() or 1, 4) + 1


class PdfPoolSettings(msgspec.Struct, frozen=True, kw_only=True):
    # Worker processes, per server process.
    workers: int = msgspec.field(default_factory=default_pdf_workers)
    # Jobs of one business rendering at once; 0: workers - 1 (at least 1), so that one
    # business never holds every worker and another business finds one free.
    business_in_flight: int = 0
    # Jobs waiting for a worker, in all and per business; one more answers 503.
    queue: int = 64
    business_queue: int = 16
    # The Retry-After of that 503 (seconds).
    retry_after_seconds: int = 5

    def __post_init__(self) -> None:
        if self.workers < 1 or self.business_in_flight < 0 or self.retry_after_seconds < 1:
            raise ValueError("PDF pool: workers and Retry-After >= 1, in-flight cap >= 0")
        if self.queue < 0 or self.business_queue < 0:
            raise ValueError("PDF pool: queue bounds >= 0")

    @property
    def in_flight_per_business(self) -> int:
        return self.business_in_flight or max(1, self.workers - 1)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PdfPoolSettings:
        def number(name: str, default: int) -> int:
            return int(env.get(name) or default)

        return cls(
            workers=number("FASTFAKTURA_PDF_WORKERS", default_pdf_workers()),
            business_in_flight=number("FASTFAKTURA_PDF_BUSINESS_IN_FLIGHT", 0),
            queue=number("FASTFAKTURA_PDF_QUEUE", 64),
            business_queue=number("FASTFAKTURA_PDF_BUSINESS_QUEUE", 16),
            retry_after_seconds=number("FASTFAKTURA_PDF_RETRY_AFTER_SECONDS", 5),
        )


# -- end of the PDF rendering pool block ---------------------------------------------------


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
    pdf: PdfPoolSettings = msgspec.field(default_factory=lambda: PdfPoolSettings())

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
            pdf=PdfPoolSettings.from_env(env),
        )

    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")
