"""Signing in: slowed down after failures (per email, per address), a session reads its own
business only, a one-time link sets a password once (`fastfaktura users create`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import uuid4

import psycopg

from tests.accounts.support import PASSWORD, browser, log_in, new_key, sign_up, submit
from tests.conftest import Account, StoreProbe
from tests.helpers import run_cli, settle


async def test_five_wrong_passwords_block_the_email_even_with_the_right_one(
    database_url: str,
) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Throttle AS", "throttle@as.example")
        client.cookies.clear()
        for _ in range(5):
            wrong = await log_in(client, "throttle@as.example", "not the password!")
            assert wrong.status_code == 401
            assert "The email or the password is wrong." in wrong.text
        blocked = await log_in(client, "Throttle@AS.example", PASSWORD)
        assert blocked.status_code == 429
        assert 25 <= int(blocked.headers["retry-after"]) <= 30
        assert "Too many failed attempts" in blocked.text
        assert "ff_session" not in blocked.headers.get("set-cookie", "")
        # Another email from the same address is not blocked by these five.
        await sign_up(client, "Other AS", "other@as.example")
        client.cookies.clear()
        other = await log_in(client, "other@as.example")
        assert other.status_code == 303


async def test_a_block_doubles_with_each_further_failure_then_lets_the_right_password_in(
    database_url: str,
) -> None:
    async with browser(database_url, login_max_failures=2, login_block_seconds=1) as client:
        await sign_up(client, "Doubling AB", "doubling@ab.example")
        client.cookies.clear()
        for _ in range(2):
            assert (
                await log_in(client, "doubling@ab.example", "wrong password")
            ).status_code == 401
        with psycopg.connect(database_url) as conn:
            conn.execute(
                "UPDATE login_failures SET blocked_until = now() WHERE subject = %s",
                ("email:doubling@ab.example",),
            )
        assert (await log_in(client, "doubling@ab.example", "wrong again!")).status_code == 401
        blocked = await log_in(client, "doubling@ab.example")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) == 2  # 1 s doubled by the third failure
        with psycopg.connect(database_url) as conn:
            conn.execute("UPDATE login_failures SET blocked_until = now()")
        assert (await log_in(client, "doubling@ab.example")).status_code == 303
        with psycopg.connect(database_url) as conn:
            left = conn.execute(
                "SELECT count(*) FROM login_failures WHERE subject = %s",
                ("email:doubling@ab.example",),
            ).fetchone()
        assert left == (0,)  # a success forgets the email's failures


async def test_a_session_never_shows_nor_changes_another_business(
    database_url: str, new_account: Callable[..., Account], store: StoreProbe
) -> None:
    theirs = new_account("Theirs Secret GmbH")
    async with browser(database_url) as client:
        await sign_up(client, "Mine AB", "mine@ab.example")
        page = (await client.get("/account")).text
        assert "Mine AB" in page
        assert "Theirs Secret GmbH" not in page
        assert theirs.key_prefix not in page
        settle(database_url)
        before = store.snapshot()
        foreign = await submit(client, "/account", f"/account/api_keys/{theirs.key_prefix}/revoke")
        assert foreign.status_code == 404
        assert store.snapshot() == before
        still = await client.get("/api/v1/business", headers=theirs.headers)
        assert still.status_code == 200
        # A session cookie that was tampered with, or signed with another secret, is no session.
        session = client.cookies.get("ff_session")
        assert session
        client.cookies.set("ff_session", session[:-6] + "AAAAAA")
        assert (await client.get("/account", follow_redirects=False)).status_code == 303
    async with browser(database_url) as client:
        await sign_up(client, "Third AB", "third@ab.example")
        stolen = client.cookies.get("ff_session")
    async with browser(database_url, session_max_age_seconds=60) as other:
        assert stolen
        other.cookies.set("ff_session", stolen)
        page = await other.get("/account")
        assert "Third AB" in page.text  # same secret: the same session, its own business only
        assert "Mine AB" not in page.text


def _link(output: str) -> str:
    found = re.search(r"http://\S+/account/password\?token=\S+", output)
    assert found, output
    return found.group(0)


async def test_users_create_prints_a_link_that_sets_the_password_once(
    database_url: str, account: Account
) -> None:
    made = run_cli(
        database_url,
        "users",
        "create",
        "--business",
        str(account.business_id),
        "--email",
        "Owner@Linked.Example",
    )
    assert made.returncode == 0, made.stderr
    link = _link(made.stdout)
    path = "/" + link.split("/", 3)[3]
    again = run_cli(
        database_url,
        "users",
        "create",
        "--business",
        str(account.business_id),
        "--email",
        "owner@linked.example",
    )
    assert again.returncode == 1
    assert "already" in again.stderr + again.stdout
    unknown = run_cli(
        database_url, "users", "create", "--business", str(uuid4()), "--email", "x@y.example"
    )
    assert unknown.returncode == 1
    bad_email = run_cli(
        database_url, "users", "create", "--business", str(account.business_id), "--email", "x"
    )
    assert bad_email.returncode == 2

    async with browser(database_url) as client:
        opened = await client.get(path)
        assert opened.status_code == 200, opened.text[:300]
        assert "owner@linked.example" in opened.text
        token = path.split("token=", 1)[1]
        short = await submit(client, path, "/account/password", token=token, password="short")
        assert short.status_code == 422
        done = await submit(client, path, "/account/password", token=token, password=PASSWORD)
        assert done.status_code == 303, done.text[:300]
        page = await client.get("/account")
        assert "owner@linked.example" in page.text
        key = new_key(await submit(client, "/account", "/account/api_keys"))
        business = await client.get("/api/v1/business", headers={"X-Api-Key": key})
        assert business.json()["id"] == str(account.business_id)
        client.cookies.clear()
        used = await client.get(path)
        assert used.status_code == 404
        assert "This link no longer works" in used.text
        assert (await log_in(client, "owner@linked.example")).status_code == 303


async def test_a_malformed_or_unknown_link_is_a_404_page(database_url: str) -> None:
    async with browser(database_url) as client:
        for token in ("", "junk", "0" * 32 + ".secret", "zz"):
            page = await client.get(f"/account/password?token={token}")
            assert page.status_code == 404
            assert page.headers["content-type"].startswith("text/html")
