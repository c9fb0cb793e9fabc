"""What every command shares: load an aggregate of the caller's business, decide, save, and
run the whole attempt again when a concurrent writer won the race (optimistic concurrency).

Every command returns a `Written` carrying its value and the notification position of each
event it recorded, so the API can wait until the read models show the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from fastfaktura.domain.errors import ConflictError, NotFoundError

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
Clock = Callable[[], datetime]

# Optimistic-concurrency conflicts are retried this many times before answering 409.
MAX_ATTEMPTS = 20


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Written(Generic[T]):
    """What a command wrote: the resulting object and (notification id, topic) per event."""

    value: T
    recorded: tuple[tuple[int, str], ...]

    @property
    def position(self) -> int | None:
        return max((nid for nid, _ in self.recorded), default=None)


@dataclass(frozen=True)
class Decided(Generic[T]):
    """One attempt's outcome: the command's value and the aggregates to save together."""

    value: T
    touched: Sequence[Aggregate | None]


def recorded(recordings: Iterable[Recording[UUID]]) -> tuple[tuple[int, str], ...]:
    return tuple((r.notification.id, r.notification.topic) for r in recordings)


class WriteModel(Application[UUID]):
    """The write side's shared machinery; the commands live in the mixins built on it."""

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env)
        self.clock = clock

    def get(
        self, aggregate_type: type[A], aggregate_id: UUID, business_id: UUID | None = None
    ) -> A:
        """Load an aggregate of that type, of that business; anything else is 'not found'."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(aggregate_type.__name__.lower()) from None
        if not isinstance(aggregate, aggregate_type):
            raise NotFoundError(aggregate_type.__name__.lower())
        if business_id is not None and getattr(aggregate, "business_id", None) != business_id:
            raise NotFoundError(aggregate_type.__name__.lower())
        return aggregate

    def find(self, aggregate_type: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate with that id, or None when nothing was stored under it yet."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, aggregate_type)
        return aggregate

    def _command(self, attempt: Callable[[], Decided[T]]) -> Written[T]:
        """Load, decide and save (`attempt`), again while a concurrent writer wins the race;
        past MAX_ATTEMPTS, a ConflictError (409)."""
        for _ in range(MAX_ATTEMPTS):
            try:
                decided = attempt()
                return Written(decided.value, recorded(self.save(*decided.touched)))
            except IntegrityError:
                continue
        raise ConflictError("the resource was changed concurrently; retry the request")

    def _change(
        self,
        aggregate_type: type[A],
        aggregate_id: UUID,
        business_id: UUID | None,
        decide: Callable[[A], object],
    ) -> Written[A]:
        """The common command: one aggregate of the business, loaded, decided on, saved."""

        def attempt() -> Decided[A]:
            aggregate = self.get(aggregate_type, aggregate_id, business_id)
            decide(aggregate)
            return Decided(aggregate, (aggregate,))

        return self._command(attempt)
