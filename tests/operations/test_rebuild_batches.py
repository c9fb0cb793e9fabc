"""A rebuild's backfill COPies its rows a batch at a time from a writer thread while the scan
folds the next batch (readmodels/backfill.py): whatever the batch size, the rebuilt tables
are the ones the projections built; a batch that fails fails the rebuild, and the live
tables stay as they were."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels import backfill
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import read_model
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account

MODEL = read_model("clients")


def _rows(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT * FROM rm_clients ORDER BY business_id, id").fetchall()


def _with_clients(
    invoicing: Invoicing, database_url: str, new_account: Callable[..., Account]
) -> None:
    account = new_account("Batch Boundaries AB")
    for number in range(5):
        invoicing.register_client(account.business_id, {"name": f"Batch client {number}"})
    catch_up(event_reader(invoicing), database_url, MODEL)


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_rebuilt_rows_equal_the_live_ones_whatever_the_batch_size(
    batch: int,
    invoicing: Invoicing,
    database_url: str,
    new_account: Callable[..., Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1: a batch per client and an empty last one; 2: full batches and maybe a part one;
    # 1000: all in the last batch.
    _with_clients(invoicing, database_url, new_account)
    live = _rows(database_url)
    monkeypatch.setattr(backfill, "FLUSH_EVERY", batch)
    result = rebuild(event_reader(invoicing), database_url, MODEL)
    assert result.events >= 5
    assert _rows(database_url) == live


def test_a_failed_batch_fails_the_rebuild_and_keeps_the_live_tables(
    invoicing: Invoicing,
    database_url: str,
    new_account: Callable[..., Account],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with_clients(invoicing, database_url, new_account)
    live = _rows(database_url)
    copy_rows = backfill.copy_rows
    calls = []

    def second_fails(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the second batch's COPY fails")
        copy_rows(*args)

    monkeypatch.setattr(backfill, "FLUSH_EVERY", 1)
    monkeypatch.setattr(backfill, "copy_rows", second_fails)
    with pytest.raises(RuntimeError, match="second batch"):
        rebuild(event_reader(invoicing), database_url, MODEL)
    assert _rows(database_url) == live
    monkeypatch.setattr(backfill, "copy_rows", copy_rows)
    rebuild(event_reader(invoicing), database_url, MODEL)  # the next rebuild starts afresh
    assert _rows(database_url) == live
