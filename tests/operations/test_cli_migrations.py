"""The CLI's context changes no schema when built; each command that needs the tables migrates
first, explicitly, so it still works on a database nothing has migrated yet."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from fastfaktura.cli import Context
from fastfaktura.config import Settings
from fastfaktura.readmodels.models import READ_MODELS
from tests.helpers import drop_database, run_cli


@pytest.fixture
def empty_url(database_url: str) -> Iterator[str]:
    """A database of its own on the suite's server, with no table at all."""
    name = f"fastfaktura_empty_{secrets.token_hex(4)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # name: built here, not user input
    url = urlunparse(urlparse(database_url)._replace(path="/" + name))
    yield url
    drop_database(database_url, url)


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


def test_building_a_context_migrates_nothing_until_asked(empty_url: str) -> None:
    ctx = Context(Settings.from_env({"DATABASE_URL": empty_url}))
    try:
        assert tables(empty_url) == set()
        applied = ctx.migrate()
    finally:
        ctx.close()
    assert applied, "every migration is pending on an empty database"
    assert {"schema_migrations", "invoicing_events", "stripe_inbox"} <= tables(empty_url)
    again = Context(Settings.from_env({"DATABASE_URL": empty_url}))
    assert again.migrate() == []


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (("projections", "status", "--json"), 0),
        (("payments", "inbox", "--json"), 0),
        (("audit", "replay", "--json"), 0),
        (("overdue", "sweep", "--today", "2026-12-01"), 0),
        (("keys", "list", "--business", "00000000-0000-0000-0000-000000000001"), 1),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_commands_on_a_database_nothing_migrated_migrate_it_first(
    empty_url: str, command: tuple[str, ...], status: int
) -> None:
    result = run_cli(empty_url, *command)
    assert result.returncode == status, result.stderr
    assert "UndefinedTable" not in result.stderr
    assert "schema_migrations" in tables(empty_url)
    if command[0] == "projections":
        names = {row["name"] for row in json.loads(result.stdout)}
        assert names == {model.name for model in READ_MODELS}
