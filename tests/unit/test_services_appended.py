"""Services.execute tells this process's projection runners what a command appended, from the
command's own thread, once it has committed and before the wait for the read models begins
(issue 12): the runners start on it at once instead of on the append's NOTIFY."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from fastfaktura.api.services import Services
from fastfaktura.application import Written
from fastfaktura.config import Settings

CREATED = "fastfaktura:Client.Created"


class _Watcher:
    """Stands in for the read-your-writes wait: notes what had been told when it began."""

    def __init__(self, told: list[tuple[tuple[tuple[int, str], ...], bool]]) -> None:
        self.told = told
        self.waits: list[tuple[list[tuple[int, str]], int]] = []

    async def wait(self, recorded: Sequence[tuple[int, str]], timeout: float) -> bool:
        self.waits.append((list(recorded), len(self.told)))
        return True


def _services(watcher: _Watcher, appended: Any) -> Services:
    unused: Any = None  # execute uses none of them
    return Services(
        settings=Settings(),
        app=unused,
        events=unused,
        pool=unused,
        watcher=watcher,  # type: ignore[arg-type]
        stripe=unused,
        pdfs=unused,
        appended=appended,
    )


async def test_execute_tells_the_runners_what_the_command_appended_before_waiting() -> None:
    told: list[tuple[tuple[tuple[int, str], ...], bool]] = []

    def appended(recorded: Sequence[tuple[int, str]]) -> None:
        told.append((tuple(recorded), threading.current_thread() is threading.main_thread()))

    watcher = _Watcher(told)
    svc = _services(watcher, appended)
    recorded = ((41, CREATED), (42, "fastfaktura:ExternalIdClaim.Created"))

    written = await svc.execute(lambda: Written("the client", recorded))

    assert written.value == "the client"
    assert told == [(recorded, False)]  # once, from the command's worker thread
    assert watcher.waits == [(list(recorded), 1)]  # told before the wait began
    # A command that recorded nothing (nothing changed) tells nobody.
    await svc.execute(lambda: Written("unchanged", ()))
    assert len(told) == 1


async def test_a_command_that_fails_tells_nobody() -> None:
    told: list[object] = []

    def failing() -> Written[str]:
        raise LookupError("not found")

    svc = _services(_Watcher([]), told.append)
    with pytest.raises(LookupError):
        await svc.execute(failing)
    assert told == []
