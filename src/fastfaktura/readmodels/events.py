"""The read side's port onto the event store: all that projections, catch-up, rebuild, the
audit and the timeline need from the write side.

The composition roots (api/app.py, the CLI) build it from the Invoicing application
(fastfaktura/event_reader.py); nothing in this package imports the application.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, Notification, StoredEvent


class EventReader(Protocol):
    """Reads the event store as the application wrote it, decoded through its mapper (so
    upcasted events show their current shape)."""

    @property
    def application_class(self) -> type[Application[UUID]]:
        """The one exception to "only the port": the library's ProjectionRunner builds its
        upstream application itself (its LISTEN subscription and notification reads) from a
        class, so the live runner is given that class, never imports it."""

    @property
    def opener(self) -> Callable[[str], EventReader]:
        """A module-level function (picklable) that opens a reader of its own from a database
        URL: rebuild and audit partitions call it in their worker processes."""

    def decode(self, stored: StoredEvent) -> Any:
        """A stored event (or notification) as its domain event."""

    @property
    def mapper(self) -> Mapper[UUID]:
        """The application's mapper (its transcoder, upcasters, cipher): the audit decodes the
        stored states itself, with msgspec, and needs what the mapper would apply."""

    def load(self, aggregate_id: UUID, version: int) -> Aggregate:
        """The aggregate at `version`, from the store."""

    def notifications(
        self, after: int, limit: int, topics: Sequence[str]
    ) -> Sequence[Notification]:
        """Up to `limit` notifications of these topics after position `after`, in order."""

    def head(self) -> int:
        """The store's last notification id (0 when empty)."""

    def close(self) -> None:
        """Release what the reader opened itself (nothing when built on a running app)."""
