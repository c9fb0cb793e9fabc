"""Only the read side runs read-model SQL: the gateway (readmodels/queries/, typed answers)
reads the tables, the projection machinery writes them. Two statements elsewhere read a read
model on purpose, each named here with its reason."""

from __future__ import annotations

import re
from pathlib import Path

import fastfaktura
from fastfaktura.adapters.named_sql import parse_named

SRC = Path(fastfaktura.__file__).resolve().parent
GATEWAY = SRC / "readmodels" / "queries"
# A statement naming a read-model table (not a dict key such as rows["rm_invoices"]).
READS_A_READ_MODEL = re.compile(r"\b(FROM|JOIN|INTO|UPDATE)\s+rm_\w+", re.IGNORECASE)
PROJECTION_QUERY = re.compile(r"""statement\(\s*["']\w+["'],\s*["']queries\.sql["']""")

# (file, statement): why it reads a read model outside the gateway.
KNOWN_READERS = {
    # takes a token from the key's bucket in the same round trip as the look-up
    ("api/ratelimit.sql", "authenticate_and_take"),
    # the payments worker's to-do list joins its own attempts to rm_invoices and rm_business
    ("adapters/stripe_inbox.sql", "due_payment_requests"),
    # its card refunds' to-do list likewise joins card_refunds to rm_credit_notes and rm_invoices
    ("adapters/stripe_inbox.sql", "due_card_refunds"),
    # the webhook worker's due deliveries join rm_business for the mode (live: SSRF guard)
    ("adapters/webhooks/store.sql", "ready_deliveries"),
}


def test_no_sql_outside_the_read_side_names_a_read_model_but_the_known_ones() -> None:
    found = set()
    for path in SRC.rglob("*.sql"):
        for name, body in parse_named(path.read_text()).items():
            if READS_A_READ_MODEL.search(body):
                found.add((path.relative_to(SRC).as_posix(), name))
    assert {f for f in found if not f[0].startswith("readmodels/")} == KNOWN_READERS
    for path in SRC.rglob("*.py"):
        if "readmodels" not in path.relative_to(SRC).parts:
            assert not READS_A_READ_MODEL.search(path.read_text()), path


def test_only_the_gateway_runs_the_read_models_queries() -> None:
    runners = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if PROJECTION_QUERY.search(path.read_text())
    }
    assert runners
    assert {r for r in runners if not r.startswith("readmodels/queries/")} == set()


def test_the_read_models_queries_only_read() -> None:
    """projections/<model>/queries.sql is the gateway's: reads only. What writes the
    operational tables (delivery attempts, the sandbox outbox) lives beside its code."""
    writes = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
    projections = SRC.parents[1] / "projections"
    found = {
        (path.parent.name, name)
        for path in projections.glob("*/queries.sql")
        for name, body in parse_named(path.read_text()).items()
        if writes.search(body)
    }
    assert found == set()
