"""Helpers for the account pages' tests: a browser-like client (cookies, form tokens)."""

from __future__ import annotations

import html
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient

from fastfaktura.api.app import create_app
from fastfaktura.config import AccountSettings, PdfPoolSettings, RateLimitSettings, Settings

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
_NEW_KEY = re.compile(r'<code class="secret" id="new-key"[^>]*>([^<]+)</code>')
PASSWORD = "a long enough passphrase"


@asynccontextmanager
async def browser(
    database_url: str, base_url: str = "http://127.0.0.1:8000", **accounts: Any
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The whole service, reached at `base_url` (loopback by default: cookies without Secure,
    which a plain-http client would not send back)."""
    # The suite's cheap password cost (tests/conftest.py) comes from the environment.
    cheap = AccountSettings.from_env(os.environ)
    settings = Settings(
        database_url=database_url,
        public_base_url=base_url,
        rate_limits=RateLimitSettings.off(),
        accounts=msgspec.structs.replace(cheap, session_secret="s" * 40, **accounts),
        # The account pages render no PDF: one worker, as each of its warm-up renders is most
        # of an app's start.
        pdf=PdfPoolSettings(workers=1),
    )
    app = create_app(settings, database_url)
    async with AsyncTestClient(app=app, base_url=base_url) as client:
        yield client


def form_token(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def new_key(page: httpx.Response) -> str:
    found = _NEW_KEY.search(page.text)
    assert found, page.text[:2000]
    return html.unescape(found.group(1))


async def submit(
    client: AsyncTestClient[Any], form_page: str, action: str, **fields: str
) -> httpx.Response:
    """Open `form_page` (for its form token), then post `fields` to `action`, as a browser."""
    opened = await client.get(form_page, follow_redirects=False)
    assert opened.status_code == 200, opened.text[:500]
    return await client.post(
        action, data={"_csrf_token": form_token(opened), **fields}, follow_redirects=False
    )


async def sign_up(
    client: AsyncTestClient[Any], name: str, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await submit(client, "/signup", "/signup", name=name, email=email, password=password)


async def log_in(
    client: AsyncTestClient[Any], email: str, password: str = PASSWORD
) -> httpx.Response:
    return await submit(client, "/login", "/login", email=email, password=password)
