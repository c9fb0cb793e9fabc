"""What a read model is, and the fold that turns events back into aggregate state."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate

from fastfaktura.readmodels.sql import statement

Row = dict[str, Any]


@cache
def event_topics(aggregate_type: type[Aggregate]) -> tuple[str, ...]:
    """Every stored topic of an aggregate's events (they are all explicit, see domain/).
    Computed once per class: each write's read-your-writes wait asks every read model
    (issue 12: a scan of the class per model and request was 6 % of a POST's CPU)."""
    return tuple(
        sorted(
            str(getattr(value, "TOPIC"))  # noqa: B009
            for value in vars(aggregate_type).values()
            if isinstance(value, type)
            and issubclass(value, CanMutateAggregate)
            and "TOPIC" in vars(value)
        )
    )


class ReadModel(ABC):
    """A read model: tables whose rows are a pure function of one aggregate's state."""

    name: ClassVar[str]
    aggregate_type: ClassVar[type[Aggregate]]
    # table -> its primary-key columns (business_id first wherever rows belong to a tenant)
    tables: ClassVar[dict[str, tuple[str, ...]]]
    # Columns stored as jsonb (written with msgspec: decimals and ids as exact strings).
    json_columns: ClassVar[frozenset[str]] = frozenset()
    # The column holding the aggregate id when the model has one table with one row per
    # aggregate: rebuild and audit then scan it in id order, in parallel partitions.
    order_column: ClassVar[str | None] = None

    @property
    def topics(self) -> tuple[str, ...]:
        return event_topics(self.aggregate_type)

    @property
    def tracking_table(self) -> str:
        return f"{self.name}_tracking"

    @abstractmethod
    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        """The rows of each table for this aggregate state (pure: replays call it)."""

    def upsert_sql(self, table: str, target: str | None = None) -> str:
        """The upsert for `table`, aimed at `target` (a rebuild's fresh table) if given."""
        return statement(self.name, "apply.sql", f"upsert_{table}").format(table=target or table)


class Folder:
    """Rebuilds aggregate state event by event, keeping recent aggregates in memory.

    An event that does not follow the cached state (evicted, or a stream joined midway)
    loads the aggregate at that version from the store instead.
    """

    def __init__(self, load: Callable[[UUID, int], Aggregate], maxsize: int = 100_000) -> None:
        self._load = load
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._maxsize = maxsize

    def apply(self, event: Any) -> Aggregate:
        aggregate_id: UUID = event.originator_id
        version: int = event.originator_version
        cached = self._cache.pop(aggregate_id, None)
        if cached is not None and cached.version == version - 1:
            aggregate = event.mutate(cached)
        elif cached is not None and cached.version == version:
            aggregate = cached  # delivered again (e.g. a runner restarted): nothing to fold
        elif version == 1:
            aggregate = event.mutate(None)
        else:
            aggregate = self._load(aggregate_id, version)
        assert isinstance(aggregate, Aggregate)
        self._cache[aggregate_id] = aggregate
        if len(self._cache) > self._maxsize:
            self._cache.popitem(last=False)
        return aggregate

    def __len__(self) -> int:
        return len(self._cache)
