"""A write tells the hub of its own process what it appended (issue 12, Services.appended): the
process's runners start on it at once, not on the append's NOTIFY."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import Account
from tests.invoicing_support import create_client


async def test_a_write_tells_its_process_hub_what_it_appended(
    client: AsyncTestClient[Any], account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = client.app.state.supervisor._hub
    assert hub is not None
    told: list[tuple[list[tuple[int, str]], str]] = []
    appended = hub.appended

    def recording(recorded: Iterable[tuple[int, str]]) -> None:
        recorded = list(recorded)
        told.append((recorded, threading.current_thread().name))
        appended(recorded)

    monkeypatch.setattr(hub, "appended", recording)
    created = await create_client(client, account, "Told at once")

    assert len(told) == 1
    recorded, thread = told[0]
    assert [topic for _, topic in recorded] == ["fastfaktura:Client.Created"]
    loop_thread = client.blocking_portal.call(lambda: threading.current_thread().name)
    assert thread != loop_thread  # the command's worker thread, not the event loop
    shown = await client.get(f"/api/v1/clients/{created['id']}", headers=account.headers)
    assert shown.status_code == 200
