"""A business's stored events, in the order its transactions committed, from one snapshot.

`audit export` folds them into the business's journal (domain/ledger.py): an export is made
from the events alone, never from the read models, and sees one consistent store however many
writes go on meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent

from fastfaktura.adapters.named_sql import local_statement

FETCH = 2_000  # rows per round trip of the server-side cursor


def business_events(
    database_url: str, business_id: UUID, topic_prefixes: Sequence[str]
) -> Iterator[StoredEvent]:
    """Every stored event of the business's chain whose topic starts with one of
    `topic_prefixes`, in chain order, read in one REPEATABLE READ read-only transaction."""
    patterns = [prefix.replace("%", r"\%").replace("_", r"\_") + "%" for prefix in topic_prefixes]
    with psycopg.connect(database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction(), conn.cursor(name="business_events") as cursor:
            cursor.itersize = FETCH
            cursor.execute(
                local_statement(__file__, "business_events.sql", "business_events"),
                {"business": business_id, "topics": patterns},
            )
            for originator_id, version, topic, state in cursor:
                yield StoredEvent(
                    originator_id=originator_id,
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
