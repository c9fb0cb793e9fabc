"""The public pages' additions of issue 17, through the whole app: a sandbox business's test
banner (invoice and credit note pages) and none on a live business's; the status in the
client's words; the legal mentions, the very ones the PDF prints; a print stylesheet that
hides the pay button and the download link."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.web.branding import SANDBOX_LABELS
from fastfaktura.adapters.web.labels import STATUS_LABELS
from fastfaktura.application import Invoicing
from tests.api.test_credit_note_documents_api import issued_note
from tests.conftest import Account
from tests.documents.support import SELLER, pages_text
from tests.invoicing_support import INVOICES, invoice_for

# The client's words, never the recorded status (issue 17: "Opened" is the seller's word).
AWAITING = {
    "fr": "En attente de paiement",
    "en": "Awaiting payment",
    "nb": "Venter på betaling",
    "sv": "Väntar på betalning",
}


def shown(page: str) -> str:
    return html.unescape(page)


def flat(text: str) -> str:
    return " ".join(text.split())


def legal_section(page: str) -> list[str]:
    found = re.search(r'<section class="legal" id="legal-mentions">(.*?)</section>', page, re.S)
    assert found, page
    return [shown(p) for p in re.findall(r"<p>(.*?)</p>", found.group(1), re.S)]


@pytest.mark.parametrize("locale", sorted(AWAITING))
async def test_a_sandbox_invoice_page_has_the_test_banner_and_the_clients_status_words(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    locale: str,
) -> None:
    account = new_account("Sandbox Seller", **SELLER)
    invoice = await invoice_for(client, account, invoicing, database_url, locale=locale)
    page = await client.get(invoice["public_url"])
    assert page.status_code == 200, page.text
    text = shown(page.text)
    assert SANDBOX_LABELS[locale]["test_banner"] in text
    assert 'id="test-banner"' in page.text
    assert f">{AWAITING[locale]}<" in text
    assert STATUS_LABELS[locale]["opened"] == AWAITING[locale]
    assert 'data-status="opened"' in page.text  # machines still read the real status

    # The legal mentions: the very text the PDF prints (one source, adapters/web/legal.py).
    mentions = legal_section(page.text)
    assert mentions
    assert any("L441-10" in mention for mention in mentions)
    pdf = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    printed = flat(" ".join(pages_text(pdf.content)))
    for mention in mentions:
        assert flat(mention) in printed, mention


async def test_a_live_business_pages_have_no_test_banner(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    live = new_account("Live Seller", mode="live", **SELLER)
    invoice, note = await issued_note(client, live, invoicing, database_url, "fr")
    for url in (invoice["public_url"], note["public_url"]):
        page = await client.get(url)
        assert page.status_code == 200, page.text
        assert 'id="test-banner"' not in page.text
        for words in SANDBOX_LABELS.values():
            assert words["test_banner"] not in shown(page.text)
    pdf = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=live.headers)
    assert "TEST" not in " ".join(pages_text(pdf.content))


async def test_a_sandbox_credit_note_page_has_the_test_banner(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
) -> None:
    _, note = await issued_note(client, account, invoicing, database_url, "nb")
    page = await client.get(note["public_url"])
    assert page.status_code == 200, page.text
    assert SANDBOX_LABELS["nb"]["test_banner"] in shown(page.text)


async def test_the_page_prints_without_its_pay_button_or_download_link(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    page = (await client.get(invoice["public_url"])).text
    found = re.search(r"@media print \{(.*?)\n\}", page, re.S)
    assert found, "no print stylesheet"
    rules = found.group(1)
    hidden = re.search(r"([^{}]*)\{ display: none !important; \}", rules)
    assert hidden is not None
    for selector in (".card-payment", ".pdf"):
        assert selector in hidden.group(1)
    assert "@page" in rules
    assert "background: #fff" in rules
