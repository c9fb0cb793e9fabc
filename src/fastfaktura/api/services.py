"""What handlers need, built once by create_app and kept on app.state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import msgspec
import structlog
from litestar import Response

from fastfaktura.adapters.deadlines import run_in_thread
from fastfaktura.adapters.pdf.pool import PdfRenderPool
from fastfaktura.adapters.replica import ReplicaRouter
from fastfaktura.adapters.stripe_gateway import StripeGateway
from fastfaktura.api.input import parse_uuid
from fastfaktura.api.key_cache import KeyCache
from fastfaktura.api.key_usage import KeyUsage
from fastfaktura.application import Invoicing, Written
from fastfaktura.config import Settings
from fastfaktura.domain.errors import NotFoundError
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.queries.positions import PositionWatcher

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    app: Invoicing
    events: EventReader  # the read side's port onto the event store (the timeline)
    pool: asyncpg.Pool
    watcher: PositionWatcher
    stripe: StripeGateway
    pdfs: PdfRenderPool
    # When API keys were last used (api/key_usage.py); its precision comes from the settings.
    key_usage: KeyUsage = field(default_factory=lambda: KeyUsage(60.0))
    # API keys looked up once per TTL (api/key_cache.py); None: off (API_KEY_CACHE_SECONDS=0).
    key_cache: KeyCache | None = None
    # The read replica (DATABASE_READ_URL, adapters/replica.py); None: every read here.
    replica: ReplicaRouter | None = None
    # Told, in the command's thread, what each command appended, when this process runs the
    # projections: their runners start at once, not on the append's NOTIFY (issue 12).
    appended: Callable[[Sequence[tuple[int, str]]], None] | None = None

    async def execute(self, command: Callable[[], Written[T]]) -> Written[T]:
        """Run a command on the (synchronous) write side in a worker thread, then wait until
        the read models it affects show it, so the caller's next read sees its write.

        The command has the database deadline (TimeoutError past it: 503); the wait for the
        read models has its own bound, past which the write is answered anyway."""
        written = await run_in_thread(self._announcing(command), self.settings.database_timeout)
        caught_up = await self.watcher.wait(
            written.recorded, self.settings.read_your_writes_timeout
        )
        if not caught_up:
            log.warning("read models lag behind a write", position=written.position)
        # -- read replica: answer once the replica shows it too, or after its bound ---------
        elif self.replica is not None:
            await self.replica.written()
        # -- end of the read replica block -------------------------------------------------
        return written

    def _announcing(self, command: Callable[[], Written[T]]) -> Callable[[], Written[T]]:
        appended = self.appended
        if appended is None:
            return command

        def run() -> Written[T]:
            written = command()
            if written.recorded:  # committed: the runners may read it now
                appended(written.recorded)
            return written

        return run

    async def read(self, query: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
        """A list or detail read of the read models: on the replica when there is one and it
        has replayed every answered write (adapters/replica.py), else on the primary."""
        if self.replica is None:
            return await query(self.pool)
        return await self.replica.read(query)


_ENCODER = msgspec.json.Encoder()


def json_response(
    body: msgspec.Struct, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """A JSON answer as bytes: what the Idempotency-Key store keeps and replays verbatim."""
    return Response(
        _ENCODER.encode(body),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def parse_id(raw: str, resource: str) -> UUID:
    """Ids in paths are taken as text: anything that is not a UUID simply does not exist."""
    parsed = parse_uuid(raw)
    if parsed is None:
        raise NotFoundError(resource)
    return parsed


def services(state: Any) -> Services:
    value = state.services
    assert isinstance(value, Services)
    return value
