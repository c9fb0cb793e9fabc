"""The account pages over HTTP, as a browser uses them: sign up, the profile, API keys (shown
once), sign out; refusals store nothing."""

from __future__ import annotations

from typing import Any

from tests.accounts.support import PASSWORD, browser, form_token, new_key, sign_up, submit
from tests.conftest import StoreProbe
from tests.helpers import settle


async def test_sign_up_lands_on_the_account_and_a_key_made_there_works_until_revoked(
    database_url: str,
) -> None:
    async with browser(database_url) as client:
        signed_up = await sign_up(client, "Nordlys Design AS", "Kari@Nordlys.Example")
        assert signed_up.status_code == 303, signed_up.text
        assert signed_up.headers["location"] == "/account"
        page = await client.get("/account")
        assert page.status_code == 200
        assert "Nordlys Design AS" in page.text
        assert "kari@nordlys.example" in page.text
        assert page.headers["cache-control"] == "no-store"

        made = await submit(client, "/account", "/account/api_keys", key_name="laptop")
        assert made.status_code == 200, made.text[:500]
        key = new_key(made)
        assert key.startswith("ffk_test_")
        business = await client.get("/api/v1/business", headers={"X-Api-Key": key})
        assert business.status_code == 200
        assert business.json()["name"] == "Nordlys Design AS"
        again = await client.get("/account")
        assert key not in again.text  # shown once
        assert key[:16] in again.text

        revoked = await submit(client, "/account", f"/account/api_keys/{key[:16]}/revoke")
        assert revoked.status_code == 303
        refused = await client.get("/api/v1/business", headers={"X-Api-Key": key})
        assert refused.status_code == 401


async def test_the_profile_form_changes_the_business_and_a_bad_field_is_named(
    database_url: str, store: StoreProbe
) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Profile SARL", "profile@sarl.example")
        saved = await submit(
            client,
            "/account",
            "/account/profile",
            name="Profile SARL",
            legal_name="Profile Conseil SARL",
            country="fr",
            currency="EUR",
            locale="fr",
            payment_terms_days="45",
            invoice_prefix="PC",
            email="",
        )
        assert saved.status_code == 303, saved.text[:1000]
        made = await submit(client, "/account", "/account/api_keys")
        profile = await client.get("/api/v1/business", headers={"X-Api-Key": new_key(made)})
        body = profile.json()
        assert (body["legal_name"], body["country"], body["locale"]) == (
            "Profile Conseil SARL",
            "FR",
            "fr",
        )
        assert (body["payment_terms_days"], body["invoice_prefix"]) == (45, "PC")

        settle(database_url)
        before = store.snapshot()
        refused = await submit(
            client,
            "/account",
            "/account/profile",
            name="Profile SARL",
            iban="FR00 not an iban",
            payment_terms_days="999",
            currency="EUR",
            locale="fr",
            invoice_prefix="PC",
        )
        assert refused.status_code == 422
        assert 'id="e-iban"' in refused.text
        assert 'id="e-payment_terms_days"' in refused.text
        assert 'aria-invalid="true"' in refused.text
        assert store.snapshot() == before


async def test_sign_up_input_is_checked_with_clear_messages_and_nothing_is_stored(
    database_url: str, store: StoreProbe
) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Taken AB", "taken@ab.example")
        client.cookies.clear()  # signed out: another person signs up
        settle(database_url)
        before = store.snapshot()
        refused = await sign_up(client, " ", "not-an-email", "short")
        assert refused.status_code == 422
        for message in (
            "This field is required.",
            "Enter a valid email address.",
            "The password must be at least 10 characters.",
        ):
            assert message in refused.text
        taken = await sign_up(client, "Another AB", "TAKEN@ab.example")
        assert taken.status_code == 422
        assert "This email is already used by an account." in taken.text
        assert store.snapshot() == before


async def test_a_form_without_its_token_is_refused_and_changes_nothing(
    database_url: str, store: StoreProbe
) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Csrf Oy", "csrf@oy.example")
        settle(database_url)
        before = store.snapshot()
        opened = await client.get("/account")
        token = form_token(opened)
        attempts: list[dict[str, Any]] = [
            {"name": "Forged Oy", "currency": "EUR", "locale": "en", "invoice_prefix": "F"},
            {"_csrf_token": "x" * 80, "name": "Forged Oy"},
            {"_csrf_token": token[:-2] + "zz", "name": "Forged Oy"},
        ]
        for data in attempts:
            forged = await client.post("/account/profile", data=data, follow_redirects=False)
            assert forged.status_code == 403
            assert forged.headers["content-type"].startswith("text/html")
        for path in ("/account/api_keys", "/logout", "/signup", "/login"):
            forged = await client.post(path, data={"name": "x"}, follow_redirects=False)
            assert forged.status_code == 403, path
        assert store.snapshot() == before
        assert "Csrf Oy" in (await client.get("/account")).text  # still signed in


async def test_the_json_api_takes_no_csrf_token(database_url: str) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Api Oy", "api@oy.example")
        key = new_key(await submit(client, "/account", "/account/api_keys"))
        created = await client.post(
            "/api/v1/clients", json={"name": "Acme"}, headers={"X-Api-Key": key}
        )
        assert created.status_code == 201, created.text


async def test_sign_out_ends_the_session(database_url: str) -> None:
    async with browser(database_url) as client:
        await sign_up(client, "Logout AS", "logout@as.example")
        out = await submit(client, "/account", "/logout")
        assert out.status_code == 303
        assert out.headers["location"] == "/login"
        again = await client.get("/account", follow_redirects=False)
        assert again.status_code == 303
        assert again.headers["location"] == "/login"


async def test_session_cookies_are_httponly_lax_and_secure_off_loopback(database_url: str) -> None:
    async with browser(database_url) as client:
        signed_up = await sign_up(client, "Cookie AB", "cookie@ab.example")
        cookie = signed_up.headers["set-cookie"].lower()
        assert "ff_session=" in cookie
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie
    async with browser(database_url, base_url="https://app.example") as client:
        signed_up = await sign_up(client, "Cookie Secure AB", "secure@ab.example")
        cookie = signed_up.headers["set-cookie"].lower()
        assert "ff_session=" in cookie
        assert "; secure" in cookie
        csrf = (await client.get("/login")).headers.get("set-cookie", "").lower()
        assert "; secure" in csrf or csrf == ""


async def test_pages_follow_the_reader_language_and_a_chosen_one_is_remembered(
    database_url: str,
) -> None:
    async with browser(database_url) as client:
        french = await client.get("/signup", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert '<html lang="fr">' in french.text
        assert "Créez votre compte de test" in french.text
        swedish = await client.get("/login?lang=sv", headers={"Accept-Language": "fr"})
        assert "Logga in" in swedish.text
        remembered = await client.get("/signup", headers={"Accept-Language": "fr"})
        assert '<html lang="sv">' in remembered.text
        norwegian = await client.get("/login?lang=nb")
        assert "Logg inn" in norwegian.text
        unknown = await client.get("/login?lang=de")
        assert '<html lang="nb">' in unknown.text  # an unknown choice changes nothing
    assert PASSWORD
