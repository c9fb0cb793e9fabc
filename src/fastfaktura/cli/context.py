"""What a command works with: the settings, the database's URLs and the application."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from fastfaktura.adapters import budget
from fastfaktura.adapters.database import (
    ConnectionParams,
    migrate,
    resolve_database_url,
    with_application_name,
)
from fastfaktura.application import Invoicing
from fastfaktura.config import Settings
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import ReadModel
from fastfaktura.readmodels.models import READ_MODELS, read_model
from fastfaktura.readmodels.queries.business import businesses_named


class Context:
    """Settings, the database (embedded unless DATABASE_URL) and, once asked for, the application.

    `database_url` is what the API serves on (maybe a transaction pooler); `direct_url` is
    PostgreSQL itself (DATABASE_DIRECT_URL, else the same), for everything else the CLI does.
    Building one starts an embedded server if need be, but changes no schema: a command that
    needs the tables calls `migrate()` itself.
    """

    # Every connection of this process says which command opened it (pg_stat_activity);
    # main() sets it.
    application_name = "fastfaktura"

    def __init__(
        self,
        settings: Settings,
        *,
        keep_db_running: bool = False,
        app_pool: tuple[int, int] = (budget.CLI_APP_POOL_SIZE, budget.CLI_APP_POOL_OVERFLOW),
    ) -> None:
        self.settings = settings
        url = resolve_database_url(
            settings.database_url, settings.home, keep_running=keep_db_running
        )
        # The URL as resolved (the embedded server's, else DATABASE_URL): what `serve` hands
        # its child processes.
        self.url = url
        self.database_url = with_application_name(url, self.application_name)
        self.direct_url = with_application_name(
            settings.pools.direct_url or url, self.application_name
        )
        self._app_pool = app_pool
        self._app: Invoicing | None = None

    def migrate(self) -> list[str]:
        """Apply the pending migrations (safe with concurrent starts); their names."""
        return migrate(self.direct_url)

    @property
    def app(self) -> Invoicing:
        if self._app is None:
            size, overflow = self._app_pool
            env = ConnectionParams.from_url(self.direct_url).eventsourcing_env(
                pool_size=size, max_overflow=overflow
            )
            self._app = Invoicing(env)
        return self._app

    @property
    def events(self) -> EventReader:
        """The read side's port onto the store, through this context's application."""
        return event_reader(self.app)

    def catch_up(self, models: Sequence[ReadModel] = READ_MODELS) -> None:
        """Bring read models up to date now, so a CLI write is visible without a server."""
        for model in models:
            catch_up(self.events, self.direct_url, model)

    def business(self, value: str, option: str = "--business") -> UUID:
        """A business named by its id, or by its exact name (the business read model is
        caught up first). No such name, or a name several businesses share: exit 1, listing
        the ids to choose from."""
        try:
            return UUID(value)
        except ValueError:
            pass
        self.catch_up([read_model("business")])

        async def named() -> list[UUID]:
            conn = await asyncpg.connect(self.direct_url)
            try:
                return await businesses_named(conn, value)
            finally:
                await conn.close()

        found = asyncio.run(named())
        if len(found) == 1:
            return found[0]
        if not found:
            raise SystemExit(f"{option}: no business with the id or name {value!r}.")
        listed = "\n".join(f"  {business_id}" for business_id in found)
        raise SystemExit(
            f"{option}: {len(found)} businesses are named {value!r}; give one's id:\n{listed}"
        )

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
