"""create_app: the composition root of the HTTP service. Nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import asyncpg
import structlog
from litestar import Litestar, Router, get

# Private module: Litestar 2.25 has no public accessor for the built OpenAPI document.
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect

from fastfaktura import __version__
from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.adapters.deadlines import create_read_pool
from fastfaktura.adapters.pdf.pool import PdfRenderPool
from fastfaktura.adapters.replica import open_replica
from fastfaktura.adapters.stripe_gateway import StripeGateway
from fastfaktura.api import login_throttle
from fastfaktura.api.account_common import ACCOUNT_EXCEPTION_HANDLERS
from fastfaktura.api.account_pages import ACCOUNT_PAGES
from fastfaktura.api.account_settings import ACCOUNT_SETTINGS
from fastfaktura.api.account_webhooks import ACCOUNT_WEBHOOKS
from fastfaktura.api.api_keys import ApiKeyController, ApiKeyCreateRequest
from fastfaktura.api.auth import provide_tenant
from fastfaktura.api.business import BusinessController
from fastfaktura.api.business_logo import BusinessLogoController  # issue 17: the logo
from fastfaktura.api.clients import ClientController
from fastfaktura.api.credit_note_sending import CreditNoteSendController
from fastfaktura.api.credit_notes import CreditNoteController
from fastfaktura.api.docs_pages import docs_assets_router, docs_render_plugins
from fastfaktura.api.einvoice_validation import InvoiceValidationController
from fastfaktura.api.errors import EXCEPTION_HANDLERS
from fastfaktura.api.events import EventFeedController
from fastfaktura.api.health import health
from fastfaktura.api.idempotency import purge_expired
from fastfaktura.api.input import MAX_BODY_BYTES, QueryCheck
from fastfaktura.api.invoice_search import InvoiceExportController
from fastfaktura.api.invoice_xml import InvoiceXmlController  # issue 14: GET /invoices/{id}/xml
from fastfaktura.api.invoices import InvoiceController
from fastfaktura.api.key_cache import KeyCache
from fastfaktura.api.key_usage import KeyUsage
from fastfaktura.api.openapi import (
    REQUEST_BODIES,
    add_links,
    complete_answers,
    components,
    describe_schemas,
    fix_number_unions,
)
from fastfaktura.api.public import public_invoice_page, public_invoice_pdf
from fastfaktura.api.public_credit_notes import public_credit_note_page, public_credit_note_pdf
from fastfaktura.api.ratelimit import (
    PUBLIC_PATHS,
    PerAddressRateLimit,
    RateLimited,
    add_rate_limit_headers,
    purge_buckets_forever,
    rate_limited,
)
from fastfaktura.api.schemas import (
    BusinessUpdateRequest,
    CancelRequest,
    ClientCreateRequest,
    ClientUpdateRequest,
    CreditNoteCreateRequest,
    InvoiceCreateRequest,
    PaymentRequest,
    RefundRequest,
    SendRequest,
)
from fastfaktura.api.sending import SendController
from fastfaktura.api.services import Services
from fastfaktura.api.sessions import account_middleware
from fastfaktura.api.webhook_endpoints import WebhookEndpointController
from fastfaktura.api.webhooks import stripe_webhook
from fastfaktura.application import Invoicing
from fastfaktura.config import Settings
from fastfaktura.event_reader import event_reader
from fastfaktura.policies.start import Policies, start_policies
from fastfaktura.readmodels.applied import AppliedBoard
from fastfaktura.readmodels.live import ProjectionSupervisor
from fastfaktura.readmodels.models import READ_MODELS
from fastfaktura.readmodels.queries.positions import PositionWatcher

log = structlog.get_logger(__name__)

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
            await login_throttle.purge(pool)  # failed sign-ins past their window
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
            ApiKeyCreateRequest,
            CreditNoteCreateRequest,
            RefundRequest,
            *REQUEST_BODIES,  # every other body a route documents with json_body
        )
    )
    document.components.schemas = dict(sorted(schemas.items()))


def _complete_document(app: Litestar) -> None:
    """Answers every route gives through shared code, number types matched once, and the
    links between operations."""
    document = app.plugins.get(OpenAPIPlugin).provide_openapi()
    complete_answers(document)
    describe_schemas(document)
    fix_number_unions(document)
    add_links(document)


def create_app(
    settings: Settings,
    database_url: str,
    *,
    run_projections: bool = True,
    direct_url: str | None = None,
) -> Litestar:
    """The API for one process. `run_projections` off: another process runs them.

    `direct_url` (default: `database_url`) is PostgreSQL itself, for what needs a session of
    its own (LISTEN, advisory locks): the projections and the policies. When it differs,
    `database_url` is a transaction pooler, and no statement is prepared on the server.
    """
    direct_url = direct_url or database_url
    pooled = direct_url != database_url
    params = ConnectionParams.from_url(database_url)
    pools = settings.pools
    # asyncpg's statement cache prepares named statements; 0 makes them unnamed, re-parsed
    # with each execution (asyncpg's documented way to run behind PgBouncer).
    statement_cache = {"statement_cache_size": 0} if pooled else {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Every command runs in a worker thread holding one write connection: no more threads
        # than connections, so a burst waits here, not inside the pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = pools.write_max
        env = params.eventsourcing_env(
            pool_size=pools.write,
            max_overflow=pools.write_overflow,
            aggregate_cache=AGGREGATE_CACHE,
            prepared_statements=not pooled,
            timeout=settings.database_timeout,
        )
        invoicing = await anyio.to_thread.run_sync(lambda: Invoicing(env))
        # The read side's port onto the store: the read models never see the application.
        events = event_reader(invoicing)
        pool = await create_read_pool(
            database_url,
            min_size=1,
            max_size=pools.query,
            deadline=settings.database_timeout,
            # The API never changes session state: no reset query per release (issue 12).
            stateless_sessions=True,
            **statement_cache,
        )
        pdfs = PdfRenderPool(settings.pdf)
        await pdfs.start()
        supervisor = None
        # The runners here announce their commits to this process's read-your-writes wait.
        board = AppliedBoard() if run_projections else None
        policies: Policies | None = None
        policy_pool: asyncpg.Pool | None = None
        stripe = StripeGateway(settings.stripe)
        if run_projections:
            runner_env = ConnectionParams.from_url(direct_url).eventsourcing_env(
                pool_size=1, max_overflow=0, timeout=settings.database_timeout
            )
            supervisor = ProjectionSupervisor(
                direct_url,
                runner_env,
                events,
                READ_MODELS,
                connect_timeout=settings.database_timeout,
                board=board,
            )
            supervisor.start()
            # Policies run where the projections run (delivery and payments workers, overdue
            # sweep), on their own direct pool: each worker holds an advisory lock.
            policy_pool = await create_read_pool(
                direct_url, min_size=1, max_size=pools.policies, deadline=settings.database_timeout
            )
            policies = start_policies(policy_pool, invoicing, settings, stripe, pdfs)
        # -- API key cache (issue 12, api/key_cache.py): off unless API_KEY_CACHE_SECONDS ----
        key_cache = None
        key_listening = None
        if settings.accounts.key_cache_seconds > 0 and not settings.rate_limits.keys_limited:
            key_cache = KeyCache(settings.accounts.key_cache_seconds)
            key_listening = asyncio.create_task(
                key_cache.listen_forever(direct_url, settings.database_timeout)
            )
        # -- end of the API key cache ------------------------------------------------------
        # -- read replica (issue 12, adapters/replica.py): only with DATABASE_READ_URL -------
        replica = None
        if settings.replica.url:
            replica = await open_replica(
                pool, settings.replica, settings.database_timeout, **statement_cache
            )
        # -- end of the read replica block -------------------------------------------------
        app.state.services = Services(
            settings=settings,
            app=invoicing,
            events=events,
            pool=pool,
            watcher=PositionWatcher(pool, READ_MODELS, board=board),
            stripe=stripe,
            pdfs=pdfs,
            key_usage=KeyUsage(settings.accounts.key_last_used_precision),
            key_cache=key_cache,
            replica=replica,
            # The runners here start on this process's appends at once (issue 12).
            appended=supervisor.appended if supervisor is not None else None,
        )
        app.state.supervisor = supervisor
        app.state.delivery_worker = policies.delivery if policies else None
        app.state.payment_worker = policies.payments if policies else None
        app.state.webhook_worker = policies.webhooks if policies else None
        purging = asyncio.create_task(_purge_idempotency_keys(pool))
        purging_buckets = asyncio.create_task(purge_buckets_forever(pool, settings.rate_limits))
        try:
            yield
        finally:
            purging.cancel()
            purging_buckets.cancel()
            if key_listening is not None:
                key_listening.cancel()
            if replica is not None:
                await replica.close()
            for task in policies.tasks if policies else []:
                task.cancel()
            if supervisor is not None:
                await anyio.to_thread.run_sync(supervisor.stop)
            if policy_pool is not None and policies is not None:
                await asyncio.gather(*policies.tasks, return_exceptions=True)
                await policy_pool.close()
            await pdfs.close()
            await pool.close()
            await anyio.to_thread.run_sync(invoicing.close)

    page_limit = (
        [DefineMiddleware(PerAddressRateLimit, limits=settings.rate_limits, paths=PUBLIC_PATHS)]
        if settings.rate_limits.pages_limited
        else []
    )
    return Litestar(
        route_handlers=[
            BusinessController,
            BusinessLogoController,  # issue 17: PUT|GET|DELETE /business/logo
            ClientController,
            InvoiceController,
            InvoiceExportController,  # issue 17: GET /invoices/export
            InvoiceXmlController,  # issues 14 and 18: GET /invoices/{id}/xml, as issued
            SendController,
            ApiKeyController,
            CreditNoteController,
            CreditNoteSendController,
            InvoiceValidationController,  # issue 14: GET /invoices/{id}/validation
            # Integrations (issue 16): the event feed and webhook endpoints.
            EventFeedController,
            WebhookEndpointController,
            stripe_webhook,
            health,
            docs_redirect,
            docs_assets_router(),
            # -- Middleware on the pages' routers only (issue 12) ---------------------------------
            # The API's routes have no middleware of their own: each request skips those layers
            # and the exception wrapper Litestar adds under them. The public pages take the
            # per-address limit (api/ratelimit.py); the account pages (HTML forms for people,
            # with their own HTML error answers) that limit on /login and /signup, and the
            # session and CSRF middleware (api/sessions.py).
            Router(
                path="/",
                route_handlers=[
                    public_invoice_page,
                    public_invoice_pdf,
                    public_credit_note_page,
                    public_credit_note_pdf,
                ],
                middleware=page_limit,
            ),
            Router(
                path="/",
                route_handlers=[*ACCOUNT_PAGES, *ACCOUNT_SETTINGS, *ACCOUNT_WEBHOOKS],
                exception_handlers=ACCOUNT_EXCEPTION_HANDLERS,
                middleware=[*page_limit, *account_middleware(settings)],
            ),
            # -- end of the pages' routers ---------------------------------------------------------
        ],
        dependencies={"tenant": Provide(provide_tenant)},
        exception_handlers={**EXCEPTION_HANDLERS, RateLimited: rate_limited},
        # Input limits (api/input.py): bodies stop at 1 MiB while they stream in (413), and
        # unknown or repeated query parameters are refused on every /api/v1 route (a hook).
        request_max_body_size=MAX_BODY_BYTES,
        before_request=QueryCheck(),
        # Rate limits (api/ratelimit.py): per client address on the public pages (their
        # routers); the per-key limit is taken with authentication, and its headers added to
        # every answer after it.
        before_send=[add_rate_limit_headers],
        lifespan=[lifespan],
        on_startup=[_add_body_schemas, _complete_document],
        openapi_config=OpenAPIConfig(
            title="FastFaktura API",
            version=__version__,
            description=(
                "Integrate FastFaktura invoicing into your tools: clients, invoices, sending and "
                "PDFs through a simple REST API. Authenticate with `X-Api-Key: ffk_...` or "
                "`Authorization: Bearer ffk_...`. Errors are RFC 9457 problem+json."
            ),
            path="/schema",
            render_plugins=docs_render_plugins(),
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
