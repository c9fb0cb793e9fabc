"""The account page's webhook endpoints, as a browser uses them: a form creates one (its signing
secret shown once) that the API then lists, a bad URL or event type is named and stores
nothing, and a session can delete only its own business's endpoints."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from tests.accounts.support import browser, form_token, new_key, sign_up, submit

ENDPOINTS = "/api/v1/webhook_endpoints"
_SECRET = re.compile(r'<code class="secret" id="new-webhook-secret"[^>]*>([^<]+)</code>')


async def post_webhook_form(
    client: AsyncTestClient[Any], url: str, events: list[str], description: str = ""
) -> httpx.Response:
    opened = await client.get("/account")
    fields: dict[str, Any] = {
        "_csrf_token": form_token(opened),
        "webhook_url": url,
        "webhook_events": events,
        "webhook_description": description,
    }
    return await client.post("/account/webhooks", data=fields, follow_redirects=False)


async def listed(client: AsyncTestClient[Any], key: str) -> list[dict[str, Any]]:
    response = await client.get(ENDPOINTS, headers={"X-Api-Key": key})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_a_form_creates_an_endpoint_the_api_lists_its_secret_shown_once(
    database_url: str,
) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Hooks AS", "hooks@as.example")
        key = new_key(await submit(client, "/account", "/account/api_keys"))
        empty = await client.get("/account")
        assert "No webhook endpoint yet." in empty.text

        made = await post_webhook_form(
            client, "http://127.0.0.1:9/hooks", ["invoice.paid", "credit_note.issued"], "ERP"
        )

        assert made.status_code == 200, made.text[:1000]
        found = _SECRET.search(made.text)
        assert found, made.text[:2000]
        secret = html.unescape(found.group(1))
        assert secret.startswith("whsec_")
        [endpoint] = await listed(client, key)
        assert endpoint["url"] == "http://127.0.0.1:9/hooks"
        assert endpoint["events"] == ["invoice.paid", "credit_note.issued"]
        assert (endpoint["description"], endpoint["status"]) == ("ERP", "enabled")
        again = await client.get("/account")
        assert secret not in again.text  # shown once
        assert "http://127.0.0.1:9/hooks" in again.text
        assert "invoice.paid, credit_note.issued" in again.text
        french = await client.get("/account?lang=fr")
        assert "Ajouter le point de terminaison" in french.text
        assert "Actif" in french.text

        deleted = await submit(client, "/account", f"/account/webhooks/{endpoint['id']}/delete")
        assert deleted.status_code == 303
        assert deleted.headers["location"].startswith("/account?done=webhook_deleted")
        assert await listed(client, key) == []
        assert (
            "Le point de terminaison est supprimé."
            in (await client.get("/account?done=webhook_deleted")).text
        )


async def test_a_bad_url_or_event_type_is_named_and_nothing_is_stored(database_url: str) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Bad Hooks AB", "bad@hooks.example")
        key = new_key(await submit(client, "/account", "/account/api_keys"))

        # The API's rules: the cloud metadata address is refused in sandbox too.
        metadata = await post_webhook_form(client, "http://169.254.169.254/latest", ["*"])
        assert metadata.status_code == 422
        assert 'id="e-webhook_url"' in metadata.text
        assert "link-local" in metadata.text
        assert 'value="http://169.254.169.254/latest"' in metadata.text  # kept for correction

        not_a_url = await post_webhook_form(client, "hooks.example.com", ["invoice.nope"])
        assert not_a_url.status_code == 422
        assert "must be an absolute http(s) URL" in not_a_url.text
        assert 'id="e-webhook_events"' in not_a_url.text
        assert "is not an event type" in not_a_url.text

        no_events = await post_webhook_form(client, "http://127.0.0.1:9/hooks", [])
        assert no_events.status_code == 422
        assert 'id="e-webhook_events"' in no_events.text
        assert 'id="e-webhook_url"' not in no_events.text
        assert _SECRET.search(no_events.text) is None
        assert await listed(client, key) == []


async def test_a_session_deletes_only_its_own_business_endpoints(database_url: str) -> None:
    async with browser(database_url) as owner:
        await sign_up(owner, "Owner Hooks Oy", "owner@hooks.example")
        key = new_key(await submit(owner, "/account", "/account/api_keys"))
        made = await post_webhook_form(owner, "http://127.0.0.1:9/owner", ["*"])
        assert made.status_code == 200, made.text[:1000]
        [endpoint] = await listed(owner, key)
        assert "<td>All events</td>" in (await owner.get("/account")).text
        async with browser(database_url) as other:
            await sign_up(other, "Other Hooks Oy", "other@hooks.example")
            for target in (endpoint["id"], "not-an-id"):
                refused = await submit(other, "/account", f"/account/webhooks/{target}/delete")
                assert refused.status_code == 404, target
            assert "http://127.0.0.1:9/owner" not in (await other.get("/account")).text
        assert [e["id"] for e in await listed(owner, key)] == [endpoint["id"]]
        # Without the page's form token, not even the owner's own session deletes it.
        forged = await owner.post(
            f"/account/webhooks/{endpoint['id']}/delete", data={}, follow_redirects=False
        )
        assert forged.status_code == 403
        unsigned = await owner.post(
            "/account/webhooks",
            data={"webhook_url": "http://127.0.0.1:9/x", "webhook_events": "*"},
            follow_redirects=False,
        )
        assert unsigned.status_code == 403
        assert [e["id"] for e in await listed(owner, key)] == [endpoint["id"]]
