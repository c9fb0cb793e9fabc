"""Settings, read once from the environment by the composition roots (cli, create_app)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

# Card payments: their own module (config.py's length), importable from here as before.
from fastfaktura.stripe_settings import LOCAL_STRIPE_JS_PATH as LOCAL_STRIPE_JS_PATH
from fastfaktura.stripe_settings import STRIPE_JS_URL as STRIPE_JS_URL
from fastfaktura.stripe_settings import StripeSettings as StripeSettings

# -- Reading numbers from the environment: a bad value stops the process, naming the variable.


def _number(env: Mapping[str, str], name: str, default: float, *, zero_allowed: bool) -> float:
    raw = (env.get(name) or "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    lowest_ok = value >= 0 if zero_allowed else value > 0
    if not (lowest_ok and value < float("inf")):
        least = "0 or more" if zero_allowed else "a positive number"
        raise ValueError(f"{name} must be {least}, not {raw!r}")
    return value


def _count(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name) or ""
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return value


# -- Rate limits (API.md "Limits and availability"; docs/operations.md "Rate limits") ----------


class RateLimitSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Token buckets: `*_per_second` is the sustained rate, `*_burst` the bucket's size. A rate
    or a burst of 0 turns that limit off."""

    # Per API key, on every authenticated /api/v1 request.
    key_per_second: float = 100.0
    key_burst: int = 200
    # Per client address, on the public pages (/i/...).
    page_per_second: float = 10.0
    page_burst: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimitSettings:
        defaults = cls()

        def number(name: str, default: float) -> float:
            return _number(env, f"FASTFAKTURA_RATE_LIMIT_{name}", default, zero_allowed=True)

        return cls(
            key_per_second=number("KEY_PER_SECOND", defaults.key_per_second),
            key_burst=int(number("KEY_BURST", defaults.key_burst)),
            page_per_second=number("PAGE_PER_SECOND", defaults.page_per_second),
            page_burst=int(number("PAGE_BURST", defaults.page_burst)),
        )

    @classmethod
    def off(cls) -> RateLimitSettings:
        return cls(key_per_second=0, key_burst=0, page_per_second=0, page_burst=0)

    @property
    def keys_limited(self) -> bool:
        return self.key_per_second > 0 and self.key_burst > 0

    @property
    def pages_limited(self) -> bool:
        return self.page_per_second > 0 and self.page_burst > 0


# -- end of rate limits -----------------------------------------------------------------------

# -- Connection budget (docs/operations.md, "Connection budget") --------------------------------
# Each process kind opens at most a known number of PostgreSQL connections; these sizes set it.


class PoolSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Connection pools and where they connect. `direct_url` set (and not DATABASE_URL):
    DATABASE_URL is a transaction pooler (PgBouncer), used by the API's queries and commands
    only; migrations, LISTEN, advisory locks, projections, policies and the CLI go direct."""

    direct_url: str | None = None
    # The API's asyncpg pool for queries (at most; one is kept open).
    query: int = 4
    # The write side's pool (eventsourcing, psycopg): kept open, plus overflow under load. Every
    # command runs in a worker thread holding one of them: the thread limit is their sum.
    write: int = 2
    write_overflow: int = 4
    # Where the policies run (delivery, payments and webhook workers, overdue sweep): each
    # worker holds one connection for its advisory lock, so at least 4.
    policies: int = 6
    # Worker processes of `projections rebuild` and `audit replay` on a large store (each opens
    # PARTITION_CONNECTIONS).
    cli_workers: int = 2

    @property
    def write_max(self) -> int:
        return self.write + self.write_overflow

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PoolSettings:
        return cls(
            direct_url=env.get("DATABASE_DIRECT_URL") or None,
            query=_count(env, "DATABASE_QUERY_POOL_SIZE", 4, 1),
            write=_count(env, "DATABASE_WRITE_POOL_SIZE", 2, 1),
            write_overflow=_count(env, "DATABASE_WRITE_POOL_OVERFLOW", 4, 0),
            policies=_count(env, "DATABASE_POLICY_POOL_SIZE", 6, 4),
            cli_workers=_count(env, "DATABASE_CLI_WORKERS", 2, 1),
        )


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
        return cls(
            workers=_count(env, "FASTFAKTURA_PDF_WORKERS", default_pdf_workers(), 1),
            business_in_flight=_count(env, "FASTFAKTURA_PDF_BUSINESS_IN_FLIGHT", 0, 0),
            queue=_count(env, "FASTFAKTURA_PDF_QUEUE", 64, 0),
            business_queue=_count(env, "FASTFAKTURA_PDF_BUSINESS_QUEUE", 16, 0),
            retry_after_seconds=_count(env, "FASTFAKTURA_PDF_RETRY_AFTER_SECONDS", 5, 1),
        )


# -- end of the PDF rendering pool block ---------------------------------------------------

# -- Accounts: API keys' last use, browser sessions, sign-in (docs/operations.md "Accounts") ---


class AccountSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Environment: FASTFAKTURA_SESSION_SECRET, FASTFAKTURA_SESSION_MAX_AGE_SECONDS,
    API_KEY_LAST_USED_PRECISION, API_KEY_CACHE_SECONDS, FASTFAKTURA_LOGIN_MAX_FAILURES,
    FASTFAKTURA_LOGIN_BLOCK_SECONDS, FASTFAKTURA_PASSWORD_LINK_HOURS,
    FASTFAKTURA_PASSWORD_HASH_TIME_COST, _MEMORY_KIB, _PARALLELISM."""

    # Encrypts and signs the session cookie, and signs the CSRF tokens. None (development): a
    # random secret kept in $FASTFAKTURA_HOME/session-secret (0600), shared by every process
    # on that home. Set it (32 bytes or more of randomness) wherever processes share no home.
    session_secret: str | None = None
    # A session ends this long after sign-in (and at /logout).
    session_max_age_seconds: int = 12 * 3600
    # A key's `last_used_at` is written at most once per this interval per process: it may be
    # up to this many seconds older than the key's real last use (0: every request writes).
    key_last_used_precision: float = 60.0
    # API keys looked up once per this many seconds per process (API_KEY_CACHE_SECONDS; 0: off,
    # the default). A revocation drops the key from every process's cache at once (LISTEN/
    # NOTIFY, one more connection per API process). Only with per-key rate limits off: the
    # rate-limit statement reads the key in its own round trip anyway.
    key_cache_seconds: float = 0.0
    # Failed sign-ins for one email, or from one client address, before sign-in is refused
    # for login_block_seconds, doubled by every further failure (at most 15 minutes).
    login_max_failures: int = 5
    login_block_seconds: float = 30.0
    # How long a one-time link to set a password stays valid.
    password_link_hours: float = 24.0
    # Argon2id's cost for new password hashes (each hash records its own, so old ones verify
    # as made): RFC 9106's second recommended parameters. Lower only where passwords are
    # throwaway (the test suite); memory is at least 8 KiB per lane.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    password_hash_parallelism: int = 4

    def __post_init__(self) -> None:
        if self.session_secret is not None and len(self.session_secret) < 32:
            raise ValueError("FASTFAKTURA_SESSION_SECRET must be at least 32 characters")
        if self.password_hash_memory_kib < 8 * self.password_hash_parallelism:
            raise ValueError("FASTFAKTURA_PASSWORD_HASH_MEMORY_KIB: at least 8 per lane")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AccountSettings:
        return cls(
            session_secret=env.get("FASTFAKTURA_SESSION_SECRET") or None,
            session_max_age_seconds=_count(
                env, "FASTFAKTURA_SESSION_MAX_AGE_SECONDS", 12 * 3600, 60
            ),
            key_last_used_precision=_number(
                env, "API_KEY_LAST_USED_PRECISION", 60.0, zero_allowed=True
            ),
            key_cache_seconds=_number(env, "API_KEY_CACHE_SECONDS", 0.0, zero_allowed=True),
            login_max_failures=_count(env, "FASTFAKTURA_LOGIN_MAX_FAILURES", 5, 1),
            login_block_seconds=_number(
                env, "FASTFAKTURA_LOGIN_BLOCK_SECONDS", 30.0, zero_allowed=False
            ),
            password_link_hours=_number(
                env, "FASTFAKTURA_PASSWORD_LINK_HOURS", 24.0, zero_allowed=False
            ),
            password_hash_time_cost=_count(env, "FASTFAKTURA_PASSWORD_HASH_TIME_COST", 3, 1),
            password_hash_memory_kib=_count(env, "FASTFAKTURA_PASSWORD_HASH_MEMORY_KIB", 65536, 8),
            password_hash_parallelism=_count(env, "FASTFAKTURA_PASSWORD_HASH_PARALLELISM", 4, 1),
        )


# -- end of the accounts block ----------------------------------------------------------------


# -- Outbound webhooks (docs/operations.md "Webhook worker") -------------------------------


class WebhookSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Delivery of webhooks: a failed delivery waits `retry_base_seconds`, doubling up to
    `retry_max_seconds`, and is given up after `give_up_seconds` of failures; an endpoint
    whose every delivery failed for `give_up_seconds` is disabled."""

    timeout_seconds: float = 10.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    give_up_seconds: float = 3 * 24 * 3600.0
    # Deliveries in flight per endpoint at once: a slow endpoint holds back only itself.
    concurrency_per_endpoint: int = 4
    # How often the worker looks for due retries (new events wake it at once).
    poll_seconds: float = 1.0
    # The store's NOTIFYs within this window wake one fan-out pass, which queues every event
    # appended meanwhile (issue 12: a pass per append cost the API process ~1.3 ms of its
    # event loop's CPU per write); 0: a pass per NOTIFY.
    fan_out_delay_seconds: float = 0.05

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        def seconds(name: str, default: float) -> float:
            return _number(env, f"FASTFAKTURA_WEBHOOK_{name}", default, zero_allowed=False)

        return cls(
            timeout_seconds=seconds("TIMEOUT_SECONDS", 10.0),
            retry_base_seconds=seconds("RETRY_BASE_SECONDS", 5.0),
            retry_max_seconds=seconds("RETRY_MAX_SECONDS", 3600.0),
            give_up_seconds=seconds("GIVE_UP_SECONDS", 3 * 24 * 3600.0),
            concurrency_per_endpoint=_count(env, "FASTFAKTURA_WEBHOOK_CONCURRENCY", 4, 1),
            poll_seconds=seconds("POLL_SECONDS", 1.0),
            fan_out_delay_seconds=_number(
                env, "FASTFAKTURA_WEBHOOK_FAN_OUT_DELAY_SECONDS", 0.05, zero_allowed=True
            ),
        )


# -- Read replica (issue 12; docs/operations.md "A read replica") ------------------------------


class ReplicaSettings(msgspec.Struct, frozen=True, kw_only=True):
    """DATABASE_READ_URL (unset: all reads on the primary), DATABASE_READ_POOL_SIZE (per API
    process, plus one probe), DATABASE_READ_WAIT_SECONDS: how long a write waits for the
    replica to replay it, and how long one check sends reads there (adapters/replica.py)."""

    url: str | None = None
    pool: int = 4
    wait_seconds: float = 0.5

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReplicaSettings:
        return cls(
            url=env.get("DATABASE_READ_URL") or None,
            pool=_count(env, "DATABASE_READ_POOL_SIZE", 4, 1),
            wait_seconds=_number(env, "DATABASE_READ_WAIT_SECONDS", 0.5, zero_allowed=False),
        )


# -- end of the read replica block ------------------------------------------------------------


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
    # -- Processes of `serve` (issue 12; docs/operations.md "Processes and cores") ------------
    # API processes `serve` starts (FASTFAKTURA_WORKERS; `--workers` wins): 0 means one per
    # core, as many as the connection budget allows. 1: API, projections and policies in one
    # process (the small setup).
    workers: int = 0
    stripe: StripeSettings = msgspec.field(default_factory=lambda: StripeSettings())
    # Rate limits (RateLimitSettings above).
    rate_limits: RateLimitSettings = msgspec.field(default_factory=lambda: RateLimitSettings())
    pools: PoolSettings = msgspec.field(default_factory=lambda: PoolSettings())
    pdf: PdfPoolSettings = msgspec.field(default_factory=lambda: PdfPoolSettings())
    webhooks: WebhookSettings = msgspec.field(default_factory=lambda: WebhookSettings())
    # -- Deadlines (docs/operations.md "Deadlines and availability") -------------------------
    # The deadline of every database call, in seconds (FASTFAKTURA_DATABASE_TIMEOUT_SECONDS):
    # pool acquire, connect, each statement (server-side statement_timeout and client-side),
    # and how long a request waits for its command. Past it, or with the database
    # unreachable: 503 with Retry-After.
    database_timeout: float = 5.0
    # Accounts (AccountSettings above).
    accounts: AccountSettings = msgspec.field(default_factory=lambda: AccountSettings())
    replica: ReplicaSettings = msgspec.field(default_factory=lambda: ReplicaSettings())

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
            workers=_count(env, "FASTFAKTURA_WORKERS", 0, 0),
            stripe=StripeSettings.from_env(env),
            rate_limits=RateLimitSettings.from_env(env),
            pools=PoolSettings.from_env(env),
            pdf=PdfPoolSettings.from_env(env),
            webhooks=WebhookSettings.from_env(env),
            database_timeout=_number(
                env, "FASTFAKTURA_DATABASE_TIMEOUT_SECONDS", 5.0, zero_allowed=False
            ),
            accounts=AccountSettings.from_env(env),
            replica=ReplicaSettings.from_env(env),
        )

    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def on_loopback(self) -> bool:
        """Whether the service is reached on this machine only (its cookies then go over
        plain http too: no Secure flag)."""
        host = urlsplit(self.base_url()).hostname or ""
        return host in ("localhost", "::1") or host.startswith("127.")
