"""`make screenshots` (issue 17): a live business's invoice, with its logo, as its PDF and its
public page in each client locale, and one sandbox invoice (TEST watermark, test banner), saved
under DOCUMENT_SCREENSHOTS (docs/ by `make screenshots`):

- docs/invoice-<locale>.png: the PDF's first page (PDFium, pypdfium2: no poppler here);
- docs/public-page-<locale>.png: the public page in Debian's Chromium (headless);
- docs/invoice-sandbox-en.png and docs/public-page-sandbox-en.png: a sandbox business's.

Not collected by the suite (its name does not start with `test_`): run by `make screenshots`,
which names it. It checks what it shoots all the same (the page's words, the marks).
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pypdfium2
from PIL import Image, ImageDraw, ImageFont

from fastfaktura.adapters.web.branding import SANDBOX_LABELS
from fastfaktura.adapters.web.labels import STATUS_LABELS
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.e2e.test_public_page_browser import LINES, PORTS, SELLER
from tests.helpers import chromium, free_port, serving, settle

LOCALES = ("fr", "en", "nb", "sv")
BUYERS: dict[str, dict[str, Any]] = {
    "fr": {
        "name": "Boulangerie Dupont",
        "country": "FR",
        "address": "3 place du Marché\n69002 Lyon",
    },
    "en": {
        "name": "Harbour Books Ltd",
        "country": "GB",
        "address": "4 Quay Street\nBristol BS1 4DB",
    },
    "nb": {"name": "Fjordkaffe AS", "country": "NO", "address": "Bryggen 5\n5003 Bergen"},
    "sv": {
        "name": "Skärgårdsbageriet AB",
        "country": "SE",
        "address": "Strandvägen 9\n114 56 Stockholm",
    },
}


def logo_png() -> bytes:
    """A made-up logo: a badge with the initials and the name (the package's DejaVu Sans)."""
    fonts = files("fastfaktura.adapters.pdf").joinpath("assets", "fonts")
    bold = ImageFont.truetype(io.BytesIO(fonts.joinpath("DejaVuSans-Bold.ttf").read_bytes()), 56)
    plain = ImageFont.truetype(io.BytesIO(fonts.joinpath("DejaVuSans.ttf").read_bytes()), 30)
    image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 119, 119), radius=24, fill=(43, 76, 126, 255))
    draw.text((60, 60), "AL", fill=(255, 255, 255, 255), anchor="mm", font=bold)
    draw.text((136, 60), "Atelier Lumière", fill=(29, 35, 48, 255), anchor="lm", font=plain)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf_first_page(pdf: bytes, path: Path) -> None:
    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=110 / 72)  # about 110 dpi: readable, not huge
        bitmap.to_pil().convert("RGB").save(path, format="PNG", optimize=True)
    finally:
        document.close()


def shoot_page(url: str, path: Path, profile: Path) -> None:
    shot = chromium(
        url, profile, "--hide-scrollbars", f"--screenshot={path}", "--window-size=1000,1500"
    )
    assert shot.returncode == 0, shot.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def issue(
    api: httpx.Client, invoicing: Invoicing, account: Account, locale: str, database_url: str
) -> dict[str, Any]:
    buyer = api.post("/clients", json={**BUYERS[locale], "locale": locale})
    assert buyer.status_code == 201, buyer.text
    created = api.post(
        "/invoices",
        json={"client_id": buyer.json()["id"], "currency": "EUR", "lines": LINES[:3]},
    )
    assert created.status_code == 201, created.text
    invoice: dict[str, Any] = created.json()
    invoicing.send_invoice(account.business_id, UUID(invoice["id"]), {"link": None})
    settle(database_url)
    return invoice


def test_document_screenshots(
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    tmp_path: Path,
) -> None:
    folder = Path(os.environ.get("DOCUMENT_SCREENSHOTS") or tmp_path)
    live = new_account("Atelier Lumière", mode="live", **SELLER)
    sandbox = new_account("Atelier Lumière (test)", **SELLER)
    with serving(database_url, free_port(PORTS), tmp_path / "serve.log") as server:
        for account, locales, suffix in ((live, LOCALES, ""), (sandbox, ("en",), "sandbox-")):
            with httpx.Client(
                base_url=f"{server}/api/v1", headers=account.headers, timeout=60
            ) as api:
                put = api.put(
                    "/business/logo", content=logo_png(), headers={"Content-Type": "image/png"}
                )
                assert put.status_code == 200, put.text
                for locale in locales:
                    invoice = issue(api, invoicing, account, locale, database_url)
                    pdf = api.get(f"/invoices/{invoice['id']}/pdf")
                    assert pdf.status_code == 200, pdf.text
                    pdf_first_page(pdf.content, folder / f"invoice-{suffix}{locale}.png")
                    page = html.unescape(httpx.get(invoice["public_url"], timeout=60).text)
                    assert f">{STATUS_LABELS[locale]['opened']}<" in page
                    banner = SANDBOX_LABELS[locale]["test_banner"]
                    assert (banner in page) is (account is sandbox)
                    shoot_page(
                        invoice["public_url"],
                        folder / f"public-page-{suffix}{locale}.png",
                        tmp_path / "profile",
                    )
