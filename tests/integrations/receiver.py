"""A real HTTP receiver on 127.0.0.1 (aiohttp) for the webhook tests: it keeps every request
and answers each path by its plan (a status, a delay, or a hold until the test releases it)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Answer = Callable[[], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


def status(code: int, **headers: str) -> Answer:
    async def answer() -> web.StreamResponse:
        return web.Response(status=code, headers=headers)

    return answer


def after(seconds: float, code: int = 200) -> Answer:
    async def answer() -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(status=code)

    return answer


def hold(release: asyncio.Event) -> Answer:
    async def answer() -> web.StreamResponse:
        await release.wait()
        return web.Response(status=200)

    return answer


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # path -> answers in turn; the last one answers every later request (default: 200)
    plans: dict[str, list[Answer]] = field(default_factory=dict)
    in_flight: Counter[str] = field(default_factory=Counter)
    most_in_flight: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def first(self, path: str) -> list[Received]:
        """Each webhook's first arrival, as a receiver deduping on `webhook-id` sees them (a
        delivery whose answer came too late on a loaded machine arrives again)."""
        seen: set[str] = set()
        firsts = []
        for received in self.at(path):
            if received.webhook_id not in seen:
                seen.add(received.webhook_id)
                firsts.append(received)
        return firsts

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.received.append(
            Received(
                path,
                {k.lower(): v for k, v in request.headers.items()},
                await request.read(),
                time.monotonic(),
            )
        )
        plan = self.plans.get(path) or [status(200)]
        answer = plan.pop(0) if len(plan) > 1 else plan[0]
        self.in_flight[path] += 1
        self.most_in_flight[path] = max(self.most_in_flight[path], self.in_flight[path])
        try:
            return await answer()
        finally:
            self.in_flight[path] -= 1


def verify(secret: str, received: Received) -> None:
    """Standard Webhooks, checked by hand (not with the library that signed)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    headers = received.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + received.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert expected in headers["webhook-signature"].split(" "), "bad signature"
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 300


async def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)
