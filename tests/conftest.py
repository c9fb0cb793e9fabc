"""Shared fixtures: a real PostgreSQL (embedded, started by the suite), the app, accounts.

DATABASE_URL, when set, points at a server on which a fresh database is created instead.
Nothing is mocked: the API runs with its projections, against migrations/.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse
from uuid import UUID

import psycopg
import pytest
from litestar.testing import AsyncTestClient

# pgserver keeps an inter-process lock in the runtime dir: give the suite a private one.
_RUNTIME = Path(tempfile.mkdtemp(prefix="ff-run-"))
_RUNTIME.chmod(0o700)
os.environ["XDG_RUNTIME_DIR"] = str(_RUNTIME)

# Argon2id at its cheapest in the suite, in-process and in the `serve`/CLI subprocesses that
# inherit this environment: production's cost (64 MiB, 3 passes, 4 lanes) is spent on every
# sign-up, sign-in and password set, and the suite's passwords are throwaway.
# tests/unit/test_passwords.py proves the production default is what a hash records.
CHEAP_PASSWORD_HASHES = {
    "FASTFAKTURA_PASSWORD_HASH_TIME_COST": "1",
    "FASTFAKTURA_PASSWORD_HASH_MEMORY_KIB": "8",
    "FASTFAKTURA_PASSWORD_HASH_PARALLELISM": "1",
}
for _name, _value in CHEAP_PASSWORD_HASHES.items():
    os.environ.setdefault(_name, _value)

from fastfaktura.adapters.database import ConnectionParams, migrate, start_embedded  # noqa: E402
from fastfaktura.api.app import create_app  # noqa: E402
from fastfaktura.application import Invoicing  # noqa: E402
from fastfaktura.config import RateLimitSettings, Settings  # noqa: E402
from fastfaktura.event_reader import event_reader  # noqa: E402
from fastfaktura.readmodels.catchup import catch_up  # noqa: E402
from fastfaktura.readmodels.models import READ_MODELS  # noqa: E402


def _with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def database_url() -> str:
    if os.environ.get("FASTFAKTURA_TESTS_WITHOUT_DATABASE"):
        # `make test-unit`: the database-free selection must stay free of PostgreSQL.
        pytest.fail("this test needs PostgreSQL: move it out of the database-free folders")
    server = os.environ.get("DATABASE_URL")
    if server:
        name = f"fastfaktura_test_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(server, name)
    else:
        # Not under pytest's 0700 basetemp: the server runs as the unprivileged `pgserver`
        # user when the suite runs as root, and must be able to reach its data directory.
        home = Path(tempfile.mkdtemp(prefix="ff-test-"))
        home.chmod(0o755)
        url = start_embedded(home)  # stops when the suite exits
    migrate(url)
    return url


@contextmanager
def invoicing_on(url: str, *, pool_size: int = 2, max_overflow: int = 4) -> Iterator[Invoicing]:
    """The Invoicing application on the database at `url`, for the length of the block."""
    env = ConnectionParams.from_url(url).eventsourcing_env(
        pool_size=pool_size, max_overflow=max_overflow
    )
    app = Invoicing(env)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(scope="session")
def invoicing(database_url: str) -> Iterator[Invoicing]:
    with invoicing_on(database_url, pool_size=4, max_overflow=8) as app:
        yield app


@pytest.fixture(scope="session")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    """The whole service (API + live projections) in-process, as `fastfaktura serve` runs it."""
    # No rate limits: the suite sends far more than 100 requests/s on a key, and many public
    # page views from one address. tests/api/test_rate_limits.py runs apps with limits.
    settings = Settings(
        database_url=database_url,
        public_base_url="http://testserver",
        rate_limits=RateLimitSettings.off(),
    )
    async with AsyncTestClient(app=create_app(settings, database_url)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Account:
    business_id: UUID
    api_key: str
    key_prefix: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.api_key}


@pytest.fixture
def new_account(invoicing: Invoicing, database_url: str) -> Callable[..., Account]:
    """Make a business with its first key, visible to the API at once (read models caught up)."""

    def make(name: str = "Test Business", mode: str = "sandbox", **profile: Any) -> Account:
        issued = invoicing.register_business(name, mode, **profile).value
        for model in READ_MODELS:
            catch_up(event_reader(invoicing), database_url, model)
        return Account(issued.business_id, issued.secret, issued.prefix)

    return make


@pytest.fixture
def account(new_account: Callable[..., Account]) -> Account:
    return new_account()


@dataclass
class StoreProbe:
    """What is in the database: to prove a rejected request left no event and no row."""

    database_url: str

    def snapshot(self) -> dict[str, int]:
        with psycopg.connect(self.database_url) as conn:
            counts = {"events": _count(conn, "invoicing_events")}
            for model in READ_MODELS:
                for table in model.tables:
                    counts[table] = _count(conn, table)
            return counts


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # table: code constant
    assert row is not None
    return int(row[0])


@pytest.fixture
def store(database_url: str) -> StoreProbe:
    return StoreProbe(database_url)
