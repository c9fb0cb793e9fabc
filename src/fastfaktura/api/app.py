"""create_app: the composition root of the HTTP service. Nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import asyncpg
import structlog
from litestar import Litestar, get

# Private module: Litestar 2.25 has no public accessor for the built OpenAPI document.
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect

from fastfaktura import __version__
from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.adapters.deadlines import create_read_pool
from fastfaktura.api.auth import provide_tenant
from fastfaktura.api.business import BusinessController
from fastfaktura.api.clients import ClientController
from fastfaktura.api.errors import EXCEPTION_HANDLERS
from fastfaktura.api.health import health
from fastfaktura.api.idempotency import purge_expired
from fastfaktura.api.invoices import InvoiceController
from fastfaktura.api.openapi import components
from fastfaktura.api.public import public_invoice_page, public_invoice_pdf
from fastfaktura.api.schemas import (
    BusinessUpdateRequest,
    CancelRequest,
    ClientCreateRequest,
    ClientUpdateRequest,
    InvoiceCreateRequest,
    PaymentRequest,
    SendRequest,
)
from fastfaktura.api.sending import SendController
from fastfaktura.api.services import Services
from fastfaktura.api.webhooks import stripe_webhook
from fastfaktura.application import Invoicing
from fastfaktura.config import Settings
from fastfaktura.payments.gateway import StripeGateway
from fastfaktura.policies import Policies, start_policies
from fastfaktura.readmodels.engine import ProjectionSupervisor, loader
from fastfaktura.readmodels.models import READ_MODELS
from fastfaktura.readmodels.queries import PositionWatcher

log = structlog.get_logger(__name__)

# Command threads (anyio's default limiter is 40) each need a pooled connection.
WRITE_POOL_SIZE = 4
WRITE_POOL_OVERFLOW = 36
AGGREGATE_CACHE = 10_000


@get("/docs", include_in_schema=False)
async def docs_redirect() -> Redirect:
    """Human docs live at /schema; /docs is the address people try first."""
    return Redirect("/schema")


async def _purge_idempotency_keys(pool: asyncpg.Pool, every_seconds: float = 3600) -> None:
    while True:
        try:
            purged = await purge_expired(pool)
            if purged:
                log.info("expired idempotency keys purged", count=purged)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("idempotency key purge failed", error=str(exc))
        await asyncio.sleep(every_seconds)


def _add_body_schemas(app: Litestar) -> None:
    """Litestar generates components only from handler signatures and drops configured ones;
    our request bodies are read raw, so their schemas are added to the built document."""
    document = app.plugins.get(OpenAPIPlugin).provide_openapi()
    schemas = document.components.schemas
    schemas.update(
        components(
            ClientCreateRequest,
            ClientUpdateRequest,
            BusinessUpdateRequest,
            InvoiceCreateRequest,
            PaymentRequest,
            CancelRequest,
            SendRequest,
        )
    )
    document.components.schemas = dict(sorted(schemas.items()))


def create_app(settings: Settings, database_url: str, *, run_projections: bool = True) -> Litestar:
    """The API for one process. `run_projections` off: another process runs them."""
    params = ConnectionParams.from_url(database_url)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        env = params.eventsourcing_env(
            pool_size=WRITE_POOL_SIZE,
            max_overflow=WRITE_POOL_OVERFLOW,
            aggregate_cache=AGGREGATE_CACHE,
            timeout=settings.database_timeout,
        )
        invoicing = await anyio.to_thread.run_sync(lambda: Invoicing(env))
        pool = await create_read_pool(
            database_url, min_size=1, max_size=20, deadline=settings.database_timeout
        )
        supervisor = None
        policies: Policies | None = None
        stripe = StripeGateway(settings.stripe)
        if run_projections:
            runner_env = params.eventsourcing_env(
                pool_size=1, max_overflow=2, timeout=settings.database_timeout
            )
            supervisor = ProjectionSupervisor(
                database_url,
                runner_env,
                loader(invoicing),
                READ_MODELS,
                connect_timeout=settings.database_timeout,
            )
            supervisor.start()
            # Policies run where the projections run (delivery and payments workers, overdue
            # sweep).
            policies = start_policies(pool, invoicing, settings, stripe)
        app.state.services = Services(
            settings=settings,
            app=invoicing,
            pool=pool,
            watcher=PositionWatcher(pool, READ_MODELS),
            stripe=stripe,
        )
        app.state.supervisor = supervisor
        app.state.delivery_worker = policies.delivery if policies else None
        app.state.payment_worker = policies.payments if policies else None
        purging = asyncio.create_task(_purge_idempotency_keys(pool))
        try:
            yield
        finally:
            purging.cancel()
            for task in policies.tasks if policies else []:
                task.cancel()
            if supervisor is not None:
                await anyio.to_thread.run_sync(supervisor.stop)
            await pool.close()
            await anyio.to_thread.run_sync(invoicing.close)

    return Litestar(
        route_handlers=[
            BusinessController,
            ClientController,
            InvoiceController,
            SendController,
            public_invoice_page,
            public_invoice_pdf,
            stripe_webhook,
            health,
            docs_redirect,
        ],
        dependencies={"tenant": Provide(provide_tenant)},
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        on_startup=[_add_body_schemas],
        openapi_config=OpenAPIConfig(
            title="FastFaktura API",
            version=__version__,
            description=(
                "Integrate FastFaktura invoicing into your tools: clients, invoices, sending and "
                "PDFs through a simple REST API. Authenticate with `X-Api-Key: ffk_...` or "
                "`Authorization: Bearer ffk_...`. Errors are RFC 9457 problem+json."
            ),
            path="/schema",
            render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
            components=Components(
                security_schemes={
                    "ApiKey": SecurityScheme(
                        type="apiKey", name="X-Api-Key", security_scheme_in="header"
                    ),
                    "Bearer": SecurityScheme(type="http", scheme="bearer"),
                },
            ),
        ),
        debug=False,
    )
