"""The public page in a real headless browser (Debian's Chromium), served by the real service.

`fastfaktura serve` runs as a subprocess (the folder's one: tests/e2e/conftest.py), on the
suite's database, with PUBLIC_BASE_URL pointing at it. The invoice is made through its HTTP
API; Chromium then opens the invoice's `public_url` as a client would. `make browser` installs
Chromium (as root, with apt-get); without /usr/bin/chromium this module is skipped, and says
why.

PUBLIC_PAGE_SCREENSHOT=<path.png> keeps the screenshot of the page (docs/public-page-fr.png
was made that way).
"""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.helpers import CHROMIUM, chromium, settle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium not installed: run `make browser` as root"
)
PORTS = range(8500, 8600)  # document_screenshots.py's own server
NBSP = "\u00a0"
NNBSP = "\u202f"

SELLER: dict[str, Any] = {
    "legal_name": "Atelier Lumière SARL",
    "email": "facturation@atelier-lumiere.fr",
    "phone": "+33142000000",
    "address": "12 rue des Lilas\n75011 Paris",
    "country": "FR",
    # Valid identifiers: a French seller's invoice is issued only with them (BR-FR-10).
    "vat_number": "FR40303265045",
    "company_id": "303 265 045 00011",
    "iban": "FR7630006000011234567890189",
    "bic": "AGRIFRPP",
    "invoice_prefix": "AL",
}
BUYER: dict[str, Any] = {
    "name": "Boulangerie Dupont",
    "locale": "fr",
    "email": "compta@boulangerie-dupont.fr",
    "address": "3 place du Marché\n69002 Lyon",
    "country": "FR",
    "vat_number": "FR44732829320",
    "company_id": "732829320",  # a French business client's SIREN (BR-FR-11)
}
LINES: list[dict[str, Any]] = [
    {
        "description": "Développement du site vitrine (jours)",
        "quantity": 12,
        "unit_price_cents": 65000,
        "tax_rate": 20,
    },
    {"description": "Hébergement annuel", "quantity": 1, "unit_price_cents": 24000, "tax_rate": 20},
    {
        "description": "Formation à l'outil de gestion (demi-journée)",
        "quantity": 0.5,
        "unit_price_cents": 90000,
        "tax_rate": 20,
    },
    {
        "description": "Livre « Gérer son atelier »",
        "quantity": 2,
        "unit_price_cents": 3200,
        "tax_rate": 5.5,
    },
]
# 8,554.00 net; VAT 1,698.00 at 20 % and 3.52 at 5.5 %: 10,255.52 in all.
TOTAL = f"10{NNBSP}255,52{NBSP}€"
NOTES = (
    "Paiement à 30 jours par virement. En cas de retard, pénalités au taux de 3 fois le taux "
    "d'intérêt légal et indemnité forfaitaire pour frais de recouvrement de 40 €."
)


def test_a_client_opens_the_public_page_in_a_real_browser(
    server: str,
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    tmp_path: Path,
) -> None:
    account = new_account("Atelier Lumière", **SELLER)
    with httpx.Client(base_url=f"{server}/api/v1", headers=account.headers, timeout=30) as api:
        buyer = api.post("/clients", json=BUYER)
        assert buyer.status_code == 201, buyer.text
        created = api.post(
            "/invoices",
            json={
                "client_id": buyer.json()["id"],
                "currency": "EUR",
                "lines": LINES,
                "notes": NOTES,
            },
        )
        assert created.status_code == 201, created.text
        invoice = created.json()
        assert invoice["public_url"].startswith(f"{server}/i/")
        # Record `sent` as the send endpoint does (a mapping of channel to address iterates
        # as the channels: it fits both forms of send_invoice).
        recipients: dict[str, str | None] = {"link": None}
        invoicing.send_invoice(account.business_id, UUID(invoice["id"]), recipients)
        settle(database_url)

        def opened_events() -> int:
            events = api.get(f"/invoices/{invoice['id']}/events")
            assert events.status_code == 200, events.text
            return [e["type"] for e in events.json()["data"]].count("opened")

        def status() -> str:
            value: str = api.get(f"/invoices/{invoice['id']}").json()["status"]
            return value

        assert (status(), opened_events()) == ("sent", 0)

        dumped = chromium(invoice["public_url"], tmp_path / "profile", "--dump-dom")

        assert dumped.returncode == 0, dumped.stderr
        dom = html.unescape(dumped.stdout)
        assert '<html lang="fr">' in dom
        assert f'<strong id="invoice-number">{invoice["number"]}</strong>' in dom
        assert f'<td class="num" id="total">{TOTAL}</td>' in dom
        assert "Boulangerie Dupont" in dom
        assert "Livre « Gérer son atelier »" in dom
        assert 'data-status="opened"' in dom
        assert (status(), opened_events()) == ("opened", 1)

        screenshot = tmp_path / "page.png"
        shot = chromium(
            invoice["public_url"],
            tmp_path / "profile",
            "--hide-scrollbars",
            f"--screenshot={screenshot}",
            "--window-size=1200,1200",
        )

        assert shot.returncode == 0, shot.stderr
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # A later view the same UTC day records nothing more; the status stays `opened`.
        assert (status(), opened_events()) == ("opened", 1)
        keep = os.environ.get("PUBLIC_PAGE_SCREENSHOT")
        if keep:
            shutil.copyfile(screenshot, keep)
