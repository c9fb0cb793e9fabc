"""Settings, read once from the environment by the composition roots (cli, create_app)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


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
        )

    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")
