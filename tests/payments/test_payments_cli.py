"""`fastfaktura payments inbox` and `payments retry`, run as the installed command against a
database of their own, with inbox rows written directly (no Stripe server needed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers import drop_database, fresh_database, run_cli

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
INBOX_KEYS = {
    "event_id",
    "type",
    "livemode",
    "payment_intent_id",
    "received_at",
    "deliveries",
    "status",
    "outcome",
    "business_id",
    "invoice_id",
    "processed_at",
}


@pytest.fixture(scope="module")
def server_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "paycli")
    yield url
    drop_database(database_url, url)


@pytest.fixture
def cli_url(server_url: str) -> str:
    """The module's database with an empty inbox."""
    with psycopg.connect(server_url) as conn:
        conn.execute("DELETE FROM stripe_inbox")
    return server_url


def keep(
    url: str,
    event_id: str,
    status: str,
    *,
    minutes: int,
    outcome: str | None = None,
    event_type: str = "payment_intent.succeeded",
    business_id: UUID | None = None,
    invoice_id: UUID | None = None,
    deliveries: int = 1,
) -> None:
    """An inbox row as the webhook endpoint and the worker leave it, received at T0+minutes."""
    intent = f"pi_{event_id.removeprefix('evt_')}"
    payload = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "livemode": False,
        "created": int(T0.timestamp()),
        "data": {"object": {"id": intent, "object": "payment_intent", "amount": 1200}},
    }
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO stripe_inbox (event_id, type, livemode, payment_intent_id, payload,"
            " status, outcome, business_id, invoice_id, received_at, deliveries, processed_at)"
            " VALUES (%s, %s, false, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                event_id,
                event_type,
                intent,
                Jsonb(payload),
                status,
                outcome,
                business_id,
                invoice_id,
                T0 + timedelta(minutes=minutes),
                deliveries,
                None if status == "received" else T0 + timedelta(minutes=minutes, seconds=1),
            ),
        )


def status_of(url: str, event_id: str) -> tuple[str, str | None]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT status, outcome FROM stripe_inbox WHERE event_id = %s", (event_id,)
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def fill(url: str) -> tuple[UUID, UUID]:
    """One event of each status, and a second one that needs attention (the newest)."""
    business, invoice = uuid4(), uuid4()
    keep(url, "evt_received", "received", minutes=1)
    keep(
        url,
        "evt_applied",
        "applied",
        minutes=2,
        outcome="recorded a card payment of 1200 cents (PaymentIntent pi_applied)",
        business_id=business,
        invoice_id=invoice,
        deliveries=3,
    )
    keep(
        url,
        "evt_ignored",
        "ignored",
        minutes=3,
        event_type="charge.succeeded",
        outcome="charge.succeeded: nothing to do",
    )
    keep(
        url,
        "evt_unknown_invoice",
        "needs_attention",
        minutes=4,
        outcome="no such invoice for this business: payment not applied",
    )
    keep(
        url,
        "evt_already_paid",
        "needs_attention",
        minutes=5,
        outcome="cannot record a payment for an invoice that is paid: payment kept, not applied",
        business_id=business,
        invoice_id=invoice,
    )
    return business, invoice


def test_the_default_listing_shows_what_needs_attention_and_exits_1(cli_url: str) -> None:
    business, invoice = fill(cli_url)
    result = run_cli(cli_url, "payments", "inbox")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    for shown in (
        "evt_already_paid",
        "evt_unknown_invoice",
        "pi_already_paid",
        "needs_attention",
        "2026-11-24T09:05:00Z",
        str(business),
        str(invoice),
        "no such invoice for this business",
    ):
        assert shown in out, shown
    for hidden in ("evt_received", "evt_applied", "evt_ignored"):
        assert hidden not in out, hidden
    assert out.index("evt_already_paid") < out.index("evt_unknown_invoice")  # newest first
    assert "2 Stripe event(s) need attention" in result.stderr
    assert "payments retry" in result.stderr

    explicit = run_cli(cli_url, "payments", "inbox", "--status", "needs_attention", "--json")
    assert explicit.returncode == 1, explicit.stderr
    assert [row["event_id"] for row in json.loads(explicit.stdout)] == [
        "evt_already_paid",
        "evt_unknown_invoice",
    ]


def test_an_empty_listing_exits_0(cli_url: str) -> None:
    empty = run_cli(cli_url, "payments", "inbox")
    assert empty.returncode == 0, empty.stderr
    assert "No Stripe events with status needs_attention." in empty.stdout
    as_json = run_cli(cli_url, "payments", "inbox", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == []

    keep(cli_url, "evt_fine", "applied", minutes=1, outcome="recorded")
    still = run_cli(cli_url, "payments", "inbox")
    assert still.returncode == 0, still.stderr
    assert "evt_fine" not in still.stdout


def test_json_prints_an_array_of_inbox_rows(cli_url: str) -> None:
    business, invoice = fill(cli_url)
    result = run_cli(cli_url, "payments", "inbox", "--status", "applied", "--json")
    assert result.returncode == 0, result.stderr  # only needs_attention rows raise the alarm
    rows = json.loads(result.stdout)
    assert rows == [
        {
            "event_id": "evt_applied",
            "type": "payment_intent.succeeded",
            "livemode": False,
            "payment_intent_id": "pi_applied",
            "received_at": "2026-11-24T09:02:00Z",
            "deliveries": 3,
            "status": "applied",
            "outcome": "recorded a card payment of 1200 cents (PaymentIntent pi_applied)",
            "business_id": str(business),
            "invoice_id": str(invoice),
            "processed_at": "2026-11-24T09:02:01Z",
        }
    ]


def test_status_all_lists_every_row_newest_first_within_the_limit(cli_url: str) -> None:
    fill(cli_url)
    result = run_cli(cli_url, "payments", "inbox", "--status", "all", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["event_id"] for row in rows] == [
        "evt_already_paid",
        "evt_unknown_invoice",
        "evt_ignored",
        "evt_applied",
        "evt_received",
    ]
    assert all(set(row) == INBOX_KEYS for row in rows)

    table = run_cli(cli_url, "payments", "inbox", "--status", "all")
    assert table.returncode == 0, table.stderr
    for event_id in ("evt_received", "evt_applied", "evt_ignored", "evt_unknown_invoice"):
        assert event_id in table.stdout, event_id

    limited = run_cli(cli_url, "payments", "inbox", "--status", "all", "--limit", "2", "--json")
    assert [row["event_id"] for row in json.loads(limited.stdout)] == [
        "evt_already_paid",
        "evt_unknown_invoice",
    ]
    refused = run_cli(cli_url, "payments", "inbox", "--limit", "0")
    assert refused.returncode == 2
    assert "--limit" in refused.stderr


def test_retry_sends_an_event_back_to_the_worker(cli_url: str) -> None:
    fill(cli_url)
    result = run_cli(cli_url, "payments", "retry", "evt_unknown_invoice")
    assert result.returncode == 0, result.stderr
    assert "evt_unknown_invoice" in result.stdout
    assert "received" in result.stdout
    assert status_of(cli_url, "evt_unknown_invoice") == ("received", None)

    ignored = run_cli(cli_url, "payments", "retry", "evt_ignored")
    assert ignored.returncode == 0, ignored.stderr
    assert status_of(cli_url, "evt_ignored") == ("received", None)

    left = run_cli(cli_url, "payments", "inbox", "--json")
    assert left.returncode == 1
    assert [row["event_id"] for row in json.loads(left.stdout)] == ["evt_already_paid"]


def test_retry_refuses_unknown_events_and_other_statuses(cli_url: str) -> None:
    fill(cli_url)
    unknown = run_cli(cli_url, "payments", "retry", "evt_nosuchevent")
    assert unknown.returncode == 1
    assert "evt_nosuchevent" in unknown.stderr
    assert "needs_attention or ignored" in unknown.stderr

    for event_id, status in (("evt_applied", "applied"), ("evt_received", "received")):
        refused = run_cli(cli_url, "payments", "retry", event_id)
        assert refused.returncode == 1, event_id
        assert event_id in refused.stderr
        assert status_of(cli_url, event_id)[0] == status  # untouched


def test_the_table_shows_stripe_text_as_it_is(cli_url: str) -> None:
    outcome = "error: KeyError: ['metadata'] [bold]not markup[/bold]"
    keep(cli_url, "evt_[red]odd", "needs_attention", minutes=1, outcome=outcome)
    result = run_cli(cli_url, "payments", "inbox")
    assert result.returncode == 1, result.stderr
    assert "evt_[red]odd" in result.stdout
    assert "KeyError: ['metadata'] [bold]not markup[/bold]" in result.stdout
    retried = run_cli(cli_url, "payments", "retry", "evt_[red]odd")
    assert retried.returncode == 0, retried.stderr
    assert "evt_[red]odd" in retried.stdout


def test_resolve_closes_an_event_handled_by_hand_and_keeps_the_note(cli_url: str) -> None:
    fill(cli_url)
    resolved = run_cli(
        cli_url, "payments", "resolve", "evt_already_paid", "--note", "refunded in Stripe"
    )
    assert resolved.returncode == 0, resolved.stderr
    status, outcome = status_of(cli_url, "evt_already_paid")
    assert status == "resolved"
    assert outcome is not None
    assert outcome.endswith("resolved: refunded in Stripe")

    again = run_cli(cli_url, "payments", "resolve", "evt_already_paid", "--note", "twice")
    assert again.returncode == 1
    assert "evt_already_paid" in again.stderr
    listed = run_cli(cli_url, "payments", "inbox", "--status", "resolved", "--json")
    assert [row["event_id"] for row in json.loads(listed.stdout)] == ["evt_already_paid"]
