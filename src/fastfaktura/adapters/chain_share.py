"""`audit verify`, one share: the hash chains of a range of businesses, recomputed in Python.

A share is the businesses whose ids lie in [low, high]. Its events are streamed by one
`COPY ... TO STDOUT (FORMAT BINARY)` in notification (commit) order: the plain
columns, no function of the database applied to them; the 16-byte ids, the int8 version and the
lengths are taken from the binary rows as they come, and each link is recomputed with hashlib
and compared with the stored one (event_chain.py defines the bytes hashed).

verify's own process checks the first share; `python -m fastfaktura.adapters.chain_share`
workers check the others (chain_verify.py): each reads a job on stdin, imports the
coordinator's snapshot (so every share sees the same moment) and sends its progress and its
result back on stdout, pickled. Kept light to import: no domain, no web stack.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from fastfaktura.adapters.copy_binary import CopyRows
from fastfaktura.adapters.event_chain import Anchor, genesis

# A business's events reach the scan out of chain order only when writers skip the library's
# table lock, and then by at most about the number of concurrent writers; or when the store
# was tampered with. More waiting than this means a position that will never come: missing.
PENDING_LIMIT = 10_000
PROGRESS_EVERY = 20_000  # rows between two progress reports
SCAN = (
    "SELECT chain_business, chain_position, originator_id, originator_version, chain_hash,"
    " topic, state FROM invoicing_events"
    " WHERE chain_business >= {low} AND chain_business <= {high}"
    " ORDER BY notification_id"
)
# Notification order is commit order, so each business's events come in chain order (bar a
# few from writers that skip the library's table lock: they wait in `pending`), and it is
# about the table's physical order: one sweep of the heap. (Chain order, by the chain's
# index, revisits each page once per business on it: 1.75x PostgreSQL's CPU over 300,030
# events.) Never sort (a million events would spill to disk); no parallel workers of the
# database's own (the shares are the parallelism).
PLAN = {"enable_sort": "off", "enable_seqscan": "off", "max_parallel_workers_per_gather": "0"}
# A row's fixed head: field count, then (length, value) of chain_business (uuid),
# chain_position (int8), originator_id (uuid), originator_version (int8), then the length of
# chain_hash. Offsets in the row: the id's 16 bytes at 38, the version's 8 bytes at 58.
_ROW_HEAD = struct.Struct(">hi16siqi16siqi32si")
_ROW_LENGTHS = (16, 8, 16, 8, 32)
_INT4 = struct.Struct(">i")
_INT8 = struct.Struct(">q")
# (business, position, link, aggregate id, version, topic, state), as the slow path sees a row.
_ROW = tuple[bytes, int, bytes, bytes, int, bytes, bytes]


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


@dataclass(slots=True)
class _Chain:
    business_id: UUID
    head: bytes
    anchors: dict[int, Anchor] | None  # this business's anchors by event count
    events: int = 0
    broken: Break | None = None
    pending: dict[int, _ROW] = field(default_factory=dict)


@dataclass
class ShareResult:
    events: int = 0  # rows read
    heads: list[tuple[UUID, int, bytes]] = field(default_factory=list)  # verified, per business
    breaks: list[Break] = field(default_factory=list)
    issuing: dict[bytes, Any] = field(default_factory=dict)  # document id -> Issued


class _Checker:
    def __init__(self, anchors: dict[UUID, list[Anchor]], issuing_topics: set[str]) -> None:
        self.anchors = anchors
        self.issuing_topics = {t.encode() for t in issuing_topics}
        self.chains: dict[bytes, _Chain] = {}
        self.topics: dict[bytes, bytes] = {}  # topic -> its hashed field (length, UTF-8)
        self.result = ShareResult()

    def chain(self, business: bytes) -> _Chain:
        found = self.chains.get(business)
        if found is None:
            key = UUID(bytes=business)
            anchored = {a.events: a for a in self.anchors.get(key, ())} or None
            found = self.chains[business] = _Chain(key, genesis(key), anchored)
        return found

    def topic_field(self, topic: bytes) -> bytes:
        field = self.topics.get(topic)
        if field is None:
            field = self.topics[topic] = _INT8.pack(len(topic)) + topic
        return field

    def feed(self, chain: _Chain, row: _ROW) -> None:
        """The general path: a row out of order, a break, an anchor, an issuing event."""
        if row[5] in self.issuing_topics:
            from fastfaktura.adapters.document_verify import collect_issuing

            collect_issuing(self.result.issuing, (*row[:5], row[5].decode(), row[6]))
        if chain.broken:
            return
        if row[1] != chain.events + 1:
            chain.pending[row[1]] = row
            if len(chain.pending) > PENDING_LIMIT:
                self.missing(chain)
            return
        self.check(chain, row)
        while chain.pending and not chain.broken:
            following = chain.pending.pop(chain.events + 1, None)
            if following is None:
                return
            self.check(chain, following)

    def check(self, chain: _Chain, row: _ROW) -> None:
        _, position, stored, originator_id, version, topic, state = row
        computed = hashlib.sha256(
            b"".join(
                (
                    chain.head,
                    originator_id,
                    _INT8.pack(version),
                    self.topic_field(topic),
                    _INT8.pack(len(state)),
                    state,
                )
            )
        ).digest()
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
        anchor = chain.anchors.get(position) if chain.anchors else None
        if anchor is not None and anchor.head != computed:
            chain.broken = Break(
                chain.business_id,
                position,
                UUID(bytes=originator_id),
                version,
                f"is not the anchored head {anchor.head.hex()} (anchor of"
                f" {anchor.taken_at:%Y-%m-%dT%H:%M:%SZ}): an event at or before it changed",
            )

    def missing(self, chain: _Chain) -> None:
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

    def finish(self, low: UUID, high: UUID) -> ShareResult:
        for chain in self.chains.values():
            if chain.pending and not chain.broken:
                self.missing(chain)
        for business, anchors in self.anchors.items():
            if not low <= business <= high:
                continue
            chain = self.chain(business.bytes)
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
        result = self.result
        result.breaks = [c.broken for c in self.chains.values() if c.broken]
        result.heads = [(c.business_id, c.events, c.head) for c in self.chains.values() if c.events]
        return result


def check_share(
    conn: psycopg.Connection[Any],
    low: UUID,
    high: UUID,
    anchors: dict[UUID, list[Anchor]],
    issuing_topics: set[str],
    progress: Callable[[int], None] | None = None,
) -> ShareResult:
    """Check the chains of the businesses in [low, high], in `conn`'s open transaction (its
    snapshot). `progress(rows)` now and then with the rows read since the last call."""
    checker = _Checker(anchors, issuing_topics)
    for setting, value in PLAN.items():
        conn.execute(f"SET LOCAL {setting} = {value}")
    query = sql.SQL(SCAN).format(low=sql.Literal(low), high=sql.Literal(high))
    stream = CopyRows()
    rows = reported = 0
    report_at = PROGRESS_EVERY if progress else sys.maxsize
    # The loop below runs once per event: what it uses is in locals.
    sha256, pack, unpack_row, unpack_int = (
        hashlib.sha256,
        _INT8.pack,
        _ROW_HEAD.unpack_from,
        _INT4.unpack_from,
    )
    chains, chain_of = checker.chains, checker.chain
    topics, issuing, topic_field = checker.topics, checker.issuing_topics, checker.topic_field
    copy_sql = sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)
    head_size, lengths, whole_rows = _ROW_HEAD.size, _ROW_LENGTHS, False
    with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
        while data := copy.read():
            size = len(data)
            if whole_rows and size >= head_size:
                # PostgreSQL sends each row as one message: parse it whole, in one unpack.
                h = unpack_row(data)
                topic_end = head_size + h[11]
                if (
                    h[0] == 7
                    and h[1:10:2] == lengths
                    and h[11] >= 0
                    and size >= topic_end + 4
                    and unpack_int(data, topic_end)[0] == size - topic_end - 4
                ):
                    chain = chains.get(h[2]) or chain_of(h[2])
                    position = h[4]
                    topic = bytes(data[head_size:topic_end])
                    rows += 1
                    if rows >= report_at and progress:
                        progress(rows - reported)
                        reported, report_at = rows, rows + PROGRESS_EVERY
                    if (
                        position == chain.events + 1
                        and chain.broken is None
                        and not chain.pending  # the general path drains it
                        and topic not in issuing
                        and (chain.anchors is None or position not in chain.anchors)
                    ):
                        link = sha256(
                            b"".join(
                                (
                                    chain.head,
                                    data[38:54],  # originator_id
                                    data[58:66],  # originator_version, int8
                                    topics.get(topic) or topic_field(topic),
                                    pack(size - topic_end - 4),
                                    data[topic_end + 4 :],  # state
                                )
                            )
                        ).digest()
                        if link == h[10]:
                            chain.head, chain.events = link, position
                            continue
                    row = (h[2], position, h[10], h[6], h[8], topic, bytes(data[topic_end + 4 :]))
                    checker.feed(chain, row)
                    continue
            # Anything else (the header, the trailer, a NULL topic or state, a link that is
            # not 32 bytes): the general parser, then the general path.
            for fields in stream.feed(bytes(data)):
                row = _general_row(fields)
                rows += 1
                checker.feed(chain_of(row[0]), row)
            whole_rows = stream.idle
    for setting in PLAN:  # what runs next in this transaction is planned as usual
        conn.execute(f"RESET {setting}")
    stream.close()
    if progress and rows > reported:
        progress(rows - reported)
    checker.result.events = rows
    return checker.finish(low, high)


def _general_row(fields: list[bytes | None]) -> _ROW:
    if len(fields) != 7:
        raise ValueError(f"a COPY row of {len(fields)} fields")
    business, position, originator, version, link, topic, state = fields
    if business is None or position is None or originator is None or version is None:
        raise ValueError("an event's business, position, id or version is NULL")
    return (
        business,
        _INT8.unpack(position)[0],
        link or b"",  # a NULL link matches nothing
        originator,
        _INT8.unpack(version)[0],
        topic or b"",  # a NULL topic or state hashes as empty, as in the database
        state or b"",
    )


def work(receive: Callable[[], Any], send: Callable[[Any], None]) -> None:
    """A worker: the job from the coordinator, its share checked in the coordinator's snapshot."""
    job = receive()
    with psycopg.connect(job["url"]) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            conn.execute(
                sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(job["snapshot"]))
            )
            result = check_share(
                conn,
                job["low"],
                job["high"],
                job["anchors"],
                job["issuing_topics"],
                lambda rows: send(("progress", rows)),
            )
    send(("done", result))


def serve_worker() -> None:
    """`python -m fastfaktura.adapters.chain_share`: stdin and stdout are the coordinator's
    pipes (pickles); a failure is sent back as text, and printed on stderr."""
    receiving = Connection(os.dup(sys.stdin.fileno()), writable=False)
    sending = Connection(os.dup(sys.stdout.fileno()), readable=False)
    try:
        work(receiving.recv, sending.send)
    except BaseException as exc:
        sending.send(("error", f"{type(exc).__name__}: {exc}"))
        raise


if __name__ == "__main__":
    # Through the module's own name, so that what is pickled back names classes the
    # coordinator knows (not __main__'s copies).
    from fastfaktura.adapters import chain_share

    chain_share.serve_worker()
