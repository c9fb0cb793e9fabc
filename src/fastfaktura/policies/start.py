"""Policies: background work that follows what was recorded and acts on it, started wherever
the projections run (`serve`, or `projections run` next to API-only workers).

- the delivery worker (fastfaktura.policies.delivery), one active per database;
- the payments worker (fastfaktura.policies.payments), one active per database: Stripe
  PaymentIntents for sent invoices, and the webhook inbox;
- the overdue sweep (fastfaktura.policies.overdue), on an interval; it is idempotent per invoice;
- the webhook worker (fastfaktura.policies.webhooks), one active per database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog

from fastfaktura.adapters.deadlines import database_unavailable
from fastfaktura.adapters.delivery.transports import SmsGatewayTransport, SmtpTransport, Transport
from fastfaktura.adapters.pdf.pool import InlinePdfRenderer, PdfRenderer
from fastfaktura.adapters.stripe_gateway import StripeGateway
from fastfaktura.adapters.webhooks.sender import WebhookSender
from fastfaktura.application import Invoicing
from fastfaktura.config import Settings
from fastfaktura.event_reader import event_reader
from fastfaktura.policies.delivery import DeliveryWorker
from fastfaktura.policies.overdue import sweep
from fastfaktura.policies.payments import PaymentWorker
from fastfaktura.policies.webhooks import WebhookWorker

log = structlog.get_logger(__name__)


def transports(settings: Settings) -> dict[str, Transport]:
    """Live delivery transports from the settings (none configured: live deliveries fail
    with a clear error and are retried, then recorded as `delivery_failed`)."""
    configured: dict[str, Transport] = {}
    if settings.smtp_url:
        configured["email"] = SmtpTransport(settings.smtp_url, settings.mail_from)
    if settings.sms_gateway_url:
        configured["sms"] = SmsGatewayTransport(settings.sms_gateway_url)
    return configured


async def sweep_overdue_forever(
    pool: asyncpg.Pool, invoicing: Invoicing, every_seconds: float
) -> None:
    while True:
        try:
            await sweep(pool, invoicing, datetime.now(UTC).date())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # A lost connection or a conflict: log it and try again at the next interval.
            log.warning("overdue sweep failed", error=str(exc))
        except Exception as exc:
            # The write side's errors (eventsourcing's) when the database is away: the same.
            if not database_unavailable(exc):
                raise
            log.warning("overdue sweep failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(every_seconds)


@dataclass
class Policies:
    delivery: DeliveryWorker
    payments: PaymentWorker
    webhooks: WebhookWorker
    tasks: list[asyncio.Task[None]]


def start_policies(
    pool: asyncpg.Pool,
    invoicing: Invoicing,
    settings: Settings,
    gateway: StripeGateway,
    pdfs: PdfRenderer | None = None,
) -> Policies:
    """Start the policies on the running event loop; cancel the tasks to stop them. The
    payments worker runs as well without Stripe keys: it still keeps the webhook inbox.
    `pdfs`: the process's PDF pool, for the PDFs attached to emails (None: in a thread)."""
    delivery = DeliveryWorker(
        pool,
        invoicing,
        settings.base_url(),
        transports=transports(settings),
        pdfs=pdfs or InlinePdfRenderer(),
    )
    payments = PaymentWorker(pool, invoicing, gateway)
    webhooks = webhook_worker(pool, invoicing, settings)
    tasks = [
        asyncio.create_task(delivery.run()),
        asyncio.create_task(payments.run()),
        asyncio.create_task(sweep_overdue_forever(pool, invoicing, settings.overdue_sweep_seconds)),
        asyncio.create_task(webhooks.run()),
    ]
    return Policies(delivery, payments, webhooks, tasks)


def webhook_worker(pool: asyncpg.Pool, invoicing: Invoicing, settings: Settings) -> WebhookWorker:
    return WebhookWorker(
        pool,
        event_reader(invoicing),
        WebhookSender(timeout=settings.webhooks.timeout_seconds),
        settings.webhooks,
        settings.base_url(),
        poll_seconds=settings.webhooks.poll_seconds,
        record_disabled=invoicing.record_webhook_endpoint_disabled,
    )
