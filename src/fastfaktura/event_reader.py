"""The Invoicing application seen through the read side's port (readmodels/events.py).

The composition roots (api/app.py, the CLI) wrap their application in it; rebuild and audit
worker processes open their own with `open_event_reader`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, Notification, StoredEvent

from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.adapters.event_decoding import msgspec_mapper
from fastfaktura.application import Invoicing
from fastfaktura.readmodels.events import EventReader


class InvoicingEventReader:
    """Reads through `app`: its mapper (upcasters), repository and notification log."""

    def __init__(self, app: Invoicing, *, owned: bool = False) -> None:
        self._app = app
        self._owned = owned  # opened for this reader alone: closed with it
        # Every event a rebuild, catch-up or audit reads goes through decode: msgspec parses it.
        self._mapper = msgspec_mapper(app.mapper)

    @property
    def application_class(self) -> type[Application[UUID]]:
        return Invoicing

    @property
    def opener(self) -> Callable[[str], EventReader]:
        return open_event_reader

    def decode(self, stored: StoredEvent) -> Any:
        return self._mapper.to_domain_event(stored)

    @property
    def mapper(self) -> Mapper[UUID]:
        return self._app.mapper

    def load(self, aggregate_id: UUID, version: int) -> Aggregate:
        aggregate: Aggregate = self._app.repository.get(aggregate_id, version=version)
        return aggregate

    def notifications(
        self, after: int, limit: int, topics: Sequence[str]
    ) -> Sequence[Notification]:
        return self._app.recorder.select_notifications(
            start=after, limit=limit, topics=topics, inclusive_of_start=False
        )

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def close(self) -> None:
        if self._owned:
            self._app.close()


def open_event_reader(database_url: str) -> EventReader:
    """A reader with an application of its own, used for its mapper and one connection
    (budget.PARTITION_CONNECTIONS): what a rebuild or audit worker process needs."""
    env = ConnectionParams.from_url(database_url).eventsourcing_env(pool_size=1, max_overflow=0)
    return InvoicingEventReader(Invoicing(env), owned=True)


def event_reader(app: Invoicing) -> EventReader:
    """The read side's view of a running application (closing it is the app owner's job)."""
    return InvoicingEventReader(app)
