"""The webhook worker: a policy that follows the event store (each event's business is its
`chain_business`, readmodels/feed.py) and delivers each feed event to the endpoints that asked
for it.

Two steps per pass, one worker active per database (policies/loop.py):
- fan-out: the events after the worker's position, each queued once per subscribed endpoint
  (`webhook_deliveries`), and the new position, in one transaction. The position is a
  notification id, and ids are visible in commit order (the projections' reasoning), so no
  event is skipped; the primary key (endpoint, event) makes a replayed page harmless.
- dispatch: for each endpoint and object, the oldest pending delivery that is due, so an
  object's events arrive in order; at most `concurrency_per_endpoint` in flight per endpoint,
  each in its own task, so a slow endpoint holds back only itself.

At least once: a delivery is marked done only after the endpoint answered 2xx. A crash
between the POST and that mark sends it again, with the same `webhook-id` (the event id),
which receivers dedupe on. Failures wait `retry_base_seconds`, doubling up to
`retry_max_seconds`; after `give_up_seconds` of failures the delivery is given up, and an
endpoint whose every delivery failed that long is disabled (a manual retry enables it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

import anyio.to_thread
import asyncpg
import msgspec
import structlog

from fastfaktura.adapters.webhooks.sender import Outcome, WebhookSender
from fastfaktura.adapters.webhooks.store import statement
from fastfaktura.config import WebhookSettings
from fastfaktura.policies.loop import LockedWorker
from fastfaktura.readmodels.business_view import BusinessResponse
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.feed import FEED_TOPICS, FEED_TYPES, store_page
from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.models import (
    BusinessReadModel,
    ClientsReadModel,
    CreditNotesReadModel,
    InvoicesReadModel,
)
from fastfaktura.readmodels.queries.common import standard_uuid
from fastfaktura.readmodels.queries.credit_notes import credit_note_from_row
from fastfaktura.readmodels.timeline import event_id, stream

log = structlog.get_logger(__name__)
# The store NOTIFYs this channel with every append: new events wake the worker at once.
STORE_CHANNEL = "invoicing_events"
ALL_EVENTS = "*"
EVENT_FIELDS_ONLY = frozenset({"business.webhook_endpoint_disabled"})
_JSON = msgspec.json.Encoder()


def object_view(kind: str, aggregate: Any, base_url: str) -> Any:
    """The object as the API shows it (GET /invoices/{id}, /credit_notes/{id}, /clients/{id},
    /business), or None for an object without a view here (its event's own fields are sent)."""
    if kind == "invoice":
        row = InvoicesReadModel().rows(aggregate)["rm_invoices"][0]
        return InvoiceResponse.from_row(row, base_url)
    if kind == "client":
        row = ClientsReadModel().rows(aggregate)["rm_clients"][0]
        return {k: v for k, v in row.items() if k not in ("business_id", "version")}
    if kind == "credit_note":
        row = CreditNotesReadModel().rows(aggregate)["rm_credit_notes"][0]
        return credit_note_from_row(row, base_url)
    if kind == "business":
        # GET /business's shape, exactly (the row also holds columns the API does not show).
        return BusinessResponse.from_row(BusinessReadModel().rows(aggregate)["rm_business"][0])
    return None


@dataclass
class WebhookWorker(LockedWorker):
    LOCK: ClassVar[str] = "fastfaktura.webhook-worker"
    pool: asyncpg.Pool
    events: EventReader
    sender: WebhookSender
    settings: WebhookSettings
    base_url: str
    poll_seconds: float = 1.0  # for due retries; new events wake the worker at once
    # Records `business.webhook_endpoint_disabled` (the application's command), if given.
    record_disabled: Callable[[UUID, UUID, str, str], object] | None = None
    fan_out_batch: int = 500
    restart_seconds: float = 1.0
    status: str = "starting"
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _in_flight: dict[tuple[UUID, UUID], asyncio.Task[None]] = field(default_factory=dict)
    _busy: Counter[UUID] = field(default_factory=Counter)
    # Woken during a pass (a new event, a delivery done): the loop clears its wake-up after
    # a pass that found nothing, so such a pass must say it did something, or it is lost.
    _woken: bool = False
    # The wake-up the store's first NOTIFY of a window scheduled (settings.fan_out_delay_seconds).
    _store_wake: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            await self.sender.close()

    def wake(self) -> None:
        self._woken = True
        super().wake()

    async def run_once(self) -> int:
        self._woken = False
        done = await self.fan_out() + await self.dispatch()
        return done or int(self._woken)

    async def _work(self, lock_conn: asyncpg.pool.PoolConnectionProxy) -> None:
        await lock_conn.add_listener(STORE_CHANNEL, self._notified)
        try:
            await super()._work(lock_conn)
        finally:
            # Stopped (cancelled, or the lock lost): nothing may go on delivering.
            if self._store_wake is not None:
                self._store_wake.cancel()
                self._store_wake = None
            tasks = list(self._in_flight.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await lock_conn.remove_listener(STORE_CHANNEL, self._notified)

    def _notified(self, *_: Any) -> None:
        """An append: one pass after the window fans out every append of it. A pass per
        append ran on the API's event loop right when the write waited for its read models
        (issue 12); deliveries wait at most the window longer."""
        delay = self.settings.fan_out_delay_seconds
        if delay <= 0:
            self.wake()
        elif self._store_wake is None:
            self._store_wake = asyncio.get_running_loop().call_later(delay, self._window_ended)

    def _window_ended(self) -> None:
        self._store_wake = None
        self.wake()

    async def fan_out(self) -> int:
        """Queue the next page of store events for their endpoints; the events read."""
        if not await self.pool.fetchval(statement("fan_out_pending"), list(FEED_TOPICS)):
            return 0
        async with self.pool.acquire() as conn, conn.transaction():
            position = await conn.fetchval(statement("fan_out_position"))
            rows = await store_page(conn, position, self.fan_out_batch)
            if not rows:
                return 0
            businesses = list({row["business_id"] for row in rows})
            subscribed: defaultdict[UUID, list[Any]] = defaultdict(list)
            for endpoint in await conn.fetch(statement("subscribed_endpoints"), businesses):
                subscribed[endpoint["business_id"]].append(endpoint)
            queued = []
            for row in rows:
                event_type = FEED_TYPES[row["topic"]][1]
                object_id = standard_uuid(row["originator_id"])
                version = row["originator_version"]
                for endpoint in subscribed[row["business_id"]]:
                    wanted = endpoint["events"]
                    if row["notification_id"] > endpoint["starts_after"] and (
                        ALL_EVENTS in wanted or event_type in wanted
                    ):
                        queued.append(
                            (
                                endpoint["id"],
                                row["notification_id"],
                                row["business_id"],
                                event_id(object_id, version),
                                event_type,
                                object_id,
                                version,
                            )
                        )
            if queued:
                await conn.executemany(statement("enqueue"), queued)
            await conn.execute(statement("set_fan_out_position"), rows[-1]["notification_id"])
        return len(rows)

    async def dispatch(self) -> int:
        """Start the due deliveries there is room for; how many were started."""
        limit = self.settings.concurrency_per_endpoint
        rows = await self.pool.fetch(statement("ready_deliveries"), 1000, limit)
        started = 0
        for row in rows:
            endpoint: UUID = row["endpoint_id"]
            key = (endpoint, row["object_id"])
            if key in self._in_flight or self._busy[endpoint] >= limit:
                continue
            self._busy[endpoint] += 1
            task = asyncio.create_task(self._deliver(dict(row)))
            self._in_flight[key] = task
            task.add_done_callback(functools.partial(self._finished, key))
            started += 1
        return started

    def _finished(self, key: tuple[UUID, UUID], _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)
        self._busy[key[0]] -= 1
        if self._busy[key[0]] <= 0:
            del self._busy[key[0]]
        self.wake()  # the object's next event, or another endpoint's, may go now

    async def _deliver(self, row: dict[str, Any]) -> None:
        try:
            try:
                body = await self._body(row)
            except Exception as exc:  # the store away, or a bug: retried like a failed POST
                log.warning("webhook message not built", event_id=str(row["event_id"]))
                outcome = Outcome(None, f"not sent: the message could not be built ({exc})", 0)
            else:
                outcome = await self.sender.send(
                    row["url"],
                    row["secret"],
                    str(row["event_id"]),
                    body,
                    live=row["mode"] == "live",
                )
            await self._record(row, outcome)
        except Exception:
            # Not recorded (the database away): the delivery stays pending and goes again.
            log.exception("webhook delivery not recorded", event_id=str(row["event_id"]))

    async def _body(self, row: dict[str, Any]) -> bytes:
        object_id, version = standard_uuid(row["object_id"]), int(row["object_version"])
        aggregate = await anyio.to_thread.run_sync(lambda: self.events.load(object_id, version))
        kind = row["type"].split(".", 1)[0]
        # A fact about one of the business's endpoints, not about its profile: its own fields.
        facts = row["type"] in EVENT_FIELDS_ONLY
        data = None if facts else object_view(kind, aggregate, self.base_url)
        if data is None:
            data = await self._event_fields(object_id, version)
        occurred_at = aggregate.modified_on
        return _JSON.encode({"type": row["type"], "timestamp": occurred_at, "data": data})

    async def _event_fields(self, object_id: UUID, version: int) -> dict[str, Any]:
        for event in await stream(self.pool, self.events, object_id):
            if event.response.version == version:
                return event.response.data
        return {}

    async def _record(self, row: dict[str, Any], outcome: Outcome) -> None:
        attempt = int(row["attempts"]) + 1
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                statement("note_attempt"),
                row["endpoint_id"],
                row["event_id"],
                row["type"],
                attempt,
                outcome.status_code,
                outcome.error,
                outcome.duration_ms,
            )
            if outcome.delivered:
                await conn.execute(
                    statement("delivered"), row["endpoint_id"], row["notification_id"]
                )
                return
            wait = min(
                self.settings.retry_base_seconds * 2 ** (attempt - 1),
                self.settings.retry_max_seconds,
            )
            disabled = await conn.fetchval(
                statement("failed"),
                row["endpoint_id"],
                row["notification_id"],
                wait,
                self.settings.give_up_seconds,
                f"{self.settings.give_up_seconds:g} s",
            )
        if disabled:
            log.warning("webhook endpoint disabled", endpoint=str(row["endpoint_id"]))
            if self.record_disabled is not None:
                reason = f"every delivery failed for {self.settings.give_up_seconds:g} s"
                business_id = standard_uuid(row["business_id"])
                endpoint_id = standard_uuid(row["endpoint_id"])
                record = self.record_disabled
                await anyio.to_thread.run_sync(
                    lambda: record(business_id, endpoint_id, row["url"], reason)
                )
        log.info(
            "webhook delivery failed",
            endpoint=str(row["endpoint_id"]),
            event_id=str(row["event_id"]),
            attempt=attempt,
            error=outcome.error,
        )
