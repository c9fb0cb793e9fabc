"""The account pages in a real browser: Playwright driving Debian's Chromium (no browser
download: `executable_path`), against `fastfaktura serve` as a subprocess (the folder's one:
tests/e2e/conftest.py).

A person signs up, lands on /account, makes an API key and uses it with httpx (curl's
equivalent), edits the profile and sees it in GET /business, revokes the key (401 after), signs
out. Then each page (signup, login, account) in each language, on a phone's width too.

ACCOUNT_SCREENSHOTS=<folder> keeps a screenshot of each page in each language there
(`make screenshots` writes docs/account-<page>-<locale>.png this way). `make browser` installs
Chromium (as root, with apt-get); without /usr/bin/chromium this module is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.helpers import CHROMIUM

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium not installed: run `make browser` as root"
)
PASSWORD = "correct horse battery staple"
LOCALES = ("en", "fr", "nb", "sv")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


def test_sign_up_make_a_key_use_it_edit_the_profile_revoke_and_sign_out(
    server: str, browser: Browser
) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{server}/signup")
    page.get_by_label("Business name").fill("Browser Bakery Ltd")
    page.get_by_label("Email").fill("owner@browser-bakery.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{server}/account")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Browser Bakery Ltd")

    page.get_by_label("Name (optional)").fill("accounting export")
    page.get_by_role("button", name="Create a key").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("ffk_test_")
    api = httpx.Client(base_url=f"{server}/api/v1", headers={"X-Api-Key": key}, timeout=10)
    business = api.get("/business")
    assert business.status_code == 200
    assert business.json()["name"] == "Browser Bakery Ltd"

    page.goto(f"{server}/account")
    assert key not in page.content()  # shown once
    page.get_by_label("Legal name").fill("Browser Bakery Limited")
    page.get_by_label("Payment terms (days)").fill("14")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{server}/account?done=profile")
    assert page.get_by_role("status").first.inner_text() == "Saved."
    profile = api.get("/business").json()
    assert (profile["legal_name"], profile["payment_terms_days"]) == ("Browser Bakery Limited", 14)

    page.get_by_role("button", name=f"Revoke key {key[:16]}").click()
    page.wait_for_url(f"{server}/account?done=revoked")
    assert api.get("/business").status_code == 401

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server}/login")
    page.goto(f"{server}/account")
    assert page.url == f"{server}/login"
    context.close()


def _screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("ACCOUNT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"account-{name}.png"), full_page=True)


def _checks(page: Page) -> None:
    """Every visible field has a label; the first Tab lands on the skip link; nothing is wider
    than the window (a phone too)."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                'input:not([type=hidden]):not([hidden]), select, textarea')]
              .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
              .map(e => e.name)"""
    )
    assert unlabelled == []
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths


@pytest.mark.parametrize("locale", LOCALES)
def test_each_page_in_each_language_desktop_and_phone(
    server: str, browser: Browser, locale: str
) -> None:
    for width, suffix in ((1100, ""), (390, "-phone")):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{server}/signup")
        assert page.evaluate("() => document.documentElement.lang") == locale
        if not suffix:
            _screenshot(page, f"signup-{locale}")
        _checks(page)
        page.goto(f"{server}/login")
        if not suffix:
            _screenshot(page, f"login-{locale}")
        _checks(page)
        page.goto(f"{server}/signup")
        page.locator("#f-name").fill(f"Atelier {locale.upper()}{suffix}")
        page.locator("#f-email").fill(f"owner-{locale}{suffix}@atelier.example")
        page.locator("#f-password").fill(PASSWORD)
        page.locator("button[type=submit]").click()
        page.wait_for_url(f"{server}/account")
        page.locator("#f-key_name").fill("CI")
        page.locator("form[action='/account/api_keys'] button").click()
        assert page.locator("#new-key").inner_text().startswith("ffk_test_")
        if not suffix:
            # The key on the screenshot is revoked at once: the picture shows no live secret.
            _screenshot(page, f"account-{locale}")
        _checks(page)
        page.locator("form[action$='/revoke'] button").first.click()
        page.wait_for_url(f"{server}/account?done=revoked")
        context.close()
