"""One rule for which business owns an event (migration 0020): the feed and the webhook fan-out
read `invoicing_events.chain_business`, the column the hash chain is built and verified on, so
the feed of a business and its chain always hold the same events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels import feed
from fastfaktura.readmodels.feed import FEED_TOPICS
from fastfaktura.readmodels.timeline import event_id
from tests.conftest import Account
from tests.integrations.test_event_feed import all_events
from tests.invoicing_support import create_client, create_invoice


def test_the_store_keeps_one_owner_rule(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        second_index = conn.execute(
            "SELECT to_regclass('business_events'), to_regclass('event_owners'),"
            " to_regprocedure('invoicing_events_owner(text, uuid, bytea)')"
        ).fetchone()
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger"
            " WHERE tgrelid = 'invoicing_events'::regclass AND NOT tgisinternal ORDER BY 1"
        ).fetchall()
    assert second_index == (None, None, None)
    assert [name for (name,) in triggers] == [
        "invoicing_events_chain",
        "invoicing_events_no_update_delete",
    ]


async def test_the_feed_holds_exactly_the_events_of_the_business_chain(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, other = new_account("Owner AS"), new_account("Owner Other AS")
    buyer = await create_client(client, account, "Buyer AB")
    await create_invoice(client, account, buyer["id"])
    await create_client(client, other, "Not theirs")
    # A writer other than the service (psql, an import) names the business as a plain string:
    # the chain takes it as the business's event (docs/audit.md "Which business"), and so must
    # the feed, or the two would disagree on what the business owns.
    foreign = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT state FROM invoicing_events WHERE originator_id = %s",
            (uuid.UUID(buyer["id"]),),
        ).fetchone()
        assert row is not None
        typed = b'{"_type_":"uuid_hex","_data_":"%s"}' % account.business_id.hex.encode()
        assert typed in bytes(row[0])
        state = bytes(row[0]).replace(typed, b'"%s"' % str(account.business_id).encode())
        conn.execute(
            "INSERT INTO invoicing_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, 'fastfaktura:Client.Created', %s)",
            (foreign, state),
        )
        chained = conn.execute(
            "SELECT originator_id, originator_version FROM invoicing_events"
            " WHERE chain_business = %s AND topic = ANY(%s)",
            (account.business_id, list(FEED_TOPICS)),
        ).fetchall()

    events = await all_events(client, account, limit=3)

    assert str(event_id(foreign, 1)) in {e["id"] for e in events}
    assert sorted(e["id"] for e in events) == sorted(str(event_id(o, v)) for o, v in chained)


def test_a_business_page_follows_its_index_even_in_a_generic_plan(database_url: str) -> None:
    """asyncpg prepares statements, and PostgreSQL may then plan them for any business: the page
    must still be a range scan of (chain_business, notification_id), never a walk of the whole
    store's key filtering one business (the longer the fewer events that business has)."""
    query = local_statement(feed.__file__, "feed.sql", "business_page")
    # ClientCursor: the simple query protocol, so that PREPARE receives the $n as they are.
    with psycopg.connect(
        database_url, autocommit=True, cursor_factory=psycopg.ClientCursor
    ) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE page(uuid, bigint, text[], bigint) AS {query}")
        plan = "\n".join(
            line
            for (line,) in conn.execute(
                "EXPLAIN EXECUTE page(%s, 0, %s, 100)", (uuid.uuid4(), list(FEED_TOPICS))
            ).fetchall()
        )
    assert "invoicing_events_business_feed_idx" in plan, plan
    # On a small table the planner may fetch the few rows by bitmap and sort them: fine. What
    # must never happen is a walk of the whole store (a sequential or notification-id scan).
    assert "Seq Scan" not in plan, plan
    assert "notification_id_idx" not in plan, plan
