"""`audit verify`: recompute every business's hash chain from its stored events.

One read-only REPEATABLE READ transaction (a consistent snapshot, writers keep going), the
events streamed once in notification order through a server-side cursor; each business's links
are recomputed with event_chain.link (Python, not the database's functions) and compared with
the stored ones, and with the operator's anchors.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from fastfaktura.adapters.database import EVENTS_TABLE
from fastfaktura.adapters.document_verify import (
    DocumentCheck,
    Issued,
    check_documents,
    collect_issuing,
)
from fastfaktura.adapters.event_chain import Anchor, genesis, link_bytes, topic_field
from fastfaktura.adapters.pdf.digests import ISSUING_TOPICS

# A business's events may reach the scan out of chain order only when writers skip the
# library's table lock, and then by at most about the number of concurrent writers. More
# waiting than this means a position that will never come: an event was removed.
PENDING_LIMIT = 10_000
FETCH = 5_000  # rows per round trip of the server-side cursor
# (business, position, link, aggregate id, version, topic, state); the ids as their 16 bytes,
# cheaper than UUIDs to hash and to key dicts by.
_ROW = tuple[bytes, int, bytes, bytes, int, str, bytes]


@dataclass(frozen=True)
class Break:
    """The first place where a business's chain does not hold."""

    business_id: UUID
    position: int
    originator_id: UUID | None
    originator_version: int | None
    reason: str

    def __str__(self) -> str:
        event = (
            f"event #{self.position} (aggregate {self.originator_id}"
            f" version {self.originator_version})"
            if self.originator_id is not None
            else f"event #{self.position}"
        )
        return f"business {self.business_id}: {event} {self.reason}"


@dataclass
class _Chain:
    business_id: UUID
    head: bytes
    events: int = 0
    broken: Break | None = None
    pending: dict[int, _ROW] = field(default_factory=dict)


@dataclass(frozen=True)
class Verification:
    taken_at: datetime
    events: int
    heads: list[Anchor]  # every business's verified head, as of the snapshot
    breaks: list[Break]
    documents: DocumentCheck = field(default_factory=DocumentCheck)  # as issued (issue 18)

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.documents.breaks


class _Verifier:
    def __init__(self, anchors: dict[UUID, list[Anchor]]) -> None:
        self.anchors = {business.bytes: found for business, found in anchors.items()}
        self.anchored = {(b.bytes, a.events): a for b, found in anchors.items() for a in found}
        self.chains: dict[bytes, _Chain] = {}
        self.topics: dict[str, bytes] = {}
        self.issuing: dict[bytes, Issued] = {}  # document id -> its issuing event's digests

    def feed(self, row: _ROW) -> None:
        if row[5] in ISSUING_TOPICS:  # it may record its documents' digests
            collect_issuing(self.issuing, row)
        chain = self.chains.get(row[0])
        if chain is None:
            business = UUID(bytes=row[0])
            chain = self.chains[row[0]] = _Chain(business, genesis(business))
        if chain.broken:
            return
        if row[1] != chain.events + 1:
            chain.pending[row[1]] = row
            if len(chain.pending) > PENDING_LIMIT:
                self._missing(chain)
            return
        self._check(chain, row)
        while chain.pending and not chain.broken:
            following = chain.pending.pop(chain.events + 1, None)
            if following is None:
                return
            self._check(chain, following)

    def _check(self, chain: _Chain, row: _ROW) -> None:
        business, position, stored, originator_id, version, topic, state = row
        field = self.topics.get(topic)
        if field is None:
            field = self.topics[topic] = topic_field(topic)
        computed = link_bytes(chain.head, originator_id, version, field, state)
        if computed != stored:
            chain.broken = Break(
                chain.business_id,
                position,
                UUID(bytes=originator_id),
                version,
                "does not match its link: its stored bytes (or an earlier event's link) changed",
            )
            return
        chain.head = computed
        chain.events = position
        anchor = self.anchored.get((business, position)) if self.anchored else None
        if anchor is not None and anchor.head != computed:
            chain.broken = Break(
                chain.business_id,
                position,
                UUID(bytes=originator_id),
                version,
                f"is not the anchored head {anchor.head.hex()} (anchor of"
                f" {anchor.taken_at:%Y-%m-%dT%H:%M:%SZ}): an event at or before it changed",
            )

    def _missing(self, chain: _Chain) -> None:
        resume = chain.pending[min(chain.pending)]
        chain.broken = Break(
            chain.business_id,
            chain.events + 1,
            None,
            None,
            f"is missing: the chain resumes at event #{resume[1]}"
            f" (aggregate {UUID(bytes=resume[3])} version {resume[4]})",
        )
        chain.pending.clear()

    def finish(self) -> list[Break]:
        for chain in self.chains.values():
            if chain.pending and not chain.broken:
                self._missing(chain)
        for key, anchors in self.anchors.items():
            business = UUID(bytes=key)
            chain = self.chains.setdefault(key, _Chain(business, genesis(business)))
            longest = max(a.events for a in anchors)
            if not chain.broken and chain.events < longest:
                chain.broken = Break(
                    business,
                    chain.events + 1,
                    None,
                    None,
                    f"is missing: an anchor counts {longest} events, the store holds"
                    f" {chain.events}",
                )
        return [c.broken for c in self.chains.values() if c.broken]


def verify(
    url: str,
    *,
    business_id: UUID | None = None,
    anchors: dict[UUID, list[Anchor]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Verification:
    """Check the chains (one business's, or all). `progress(done, total)` every page."""
    wanted = {business_id: anchors.get(business_id, [])} if anchors and business_id else anchors
    verifier = _Verifier(wanted or {})
    where = "WHERE chain_business = %s" if business_id else ""
    params = (business_id,) if business_id else ()
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            taken_at, total = _snapshot(conn, business_id)
            done = 0
            for rows in _pages(
                conn,
                "SELECT uuid_send(chain_business), chain_position, chain_hash,"
                " uuid_send(originator_id), originator_version, topic, state"
                f" FROM {EVENTS_TABLE} {where} ORDER BY notification_id",
                params,
            ):
                for row in rows:
                    verifier.feed(row)
                done += len(rows)
                if progress:
                    progress(done, total)
            breaks = [_name_missing(conn, b) for b in verifier.finish()]
            documents = check_documents(conn, verifier.issuing, business_id)
    heads = [
        Anchor(chain.business_id, chain.events, chain.head, taken_at)
        for chain in verifier.chains.values()
        if chain.events
    ]
    return Verification(
        taken_at, done, sorted(heads, key=lambda a: str(a.business_id)), breaks, documents
    )


def _pages(
    conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...]
) -> Iterator[list[Any]]:
    """The query's rows, a page at a time, fetched by a thread one page ahead: PostgreSQL
    sends the next page while this thread hashes the last (psycopg waits without the GIL)."""
    pages: queue.Queue[list[Any] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        try:
            with conn.cursor(name="event_chain_scan", binary=True) as cursor:
                cursor.execute(query, params)
                while not stop.is_set() and (rows := cursor.fetchmany(FETCH)):
                    pages.put(rows)
            pages.put(None)
        except BaseException as exc:  # handed to the reading thread, raised there
            pages.put(exc)

    fetcher = threading.Thread(target=fetch, name="event-chain-fetch", daemon=True)
    fetcher.start()
    try:
        while (page := pages.get()) is not None:
            if isinstance(page, BaseException):
                raise page
            yield page
    finally:
        stop.set()
        while fetcher.is_alive():  # unblock a fetcher waiting on a full queue
            with contextlib.suppress(queue.Empty):
                pages.get(timeout=0.1)
        fetcher.join()


def _snapshot(conn: psycopg.Connection[Any], business_id: UUID | None) -> tuple[datetime, int]:
    """The snapshot's time, and about how many events it holds (for the progress bar: the
    planner's estimate for the whole store, which costs nothing; a count for one business)."""
    row = conn.execute(
        "SELECT now(), (SELECT count(*) FROM invoicing_events WHERE chain_business = %s)"
        if business_id
        else "SELECT now(), (SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass)",
        (business_id or EVENTS_TABLE,),
    ).fetchone()
    assert row is not None
    return row[0], max(int(row[1] or 0), 0)


def _name_missing(conn: psycopg.Connection[Any], found: Break) -> Break:
    """A removed event leaves a hole in its aggregate's versions: name it when it does."""
    if found.originator_id is not None:
        return found
    hole = conn.execute(
        "SELECT originator_id, originator_version + 1 FROM ("
        " SELECT originator_id, originator_version, lead(originator_version)"
        "  OVER (PARTITION BY originator_id ORDER BY originator_version) AS following"
        f" FROM {EVENTS_TABLE} WHERE chain_business = %s) versions"
        " WHERE following <> originator_version + 1 ORDER BY 1, 2 LIMIT 1",
        (found.business_id,),
    ).fetchone()
    if hole is None:
        return found
    return Break(
        found.business_id,
        found.position,
        hole[0],
        hole[1],
        found.reason + " (its aggregate lacks this version)",
    )
