"""A business's marks on its PDFs (issue 17), rendered without a database: the TEST watermark
of a sandbox business in the client's locale (invoices and credit notes, drafts and issued),
none on a live business's; the logo embedded from the job's own bytes (the only data: URI
the fetcher serves), pixel for pixel."""

from __future__ import annotations

import io

import msgspec
import pypdf
import pytest
from PIL import Image, ImageChops

from fastfaktura.adapters.logo_image import clean_logo
from fastfaktura.adapters.pdf.document import build_document
from fastfaktura.adapters.pdf.render import (
    AssetFetcher,
    AssetRefusedError,
    _sample_invoice,
    render_job,
)
from fastfaktura.adapters.web.branding import SANDBOX_LABELS, Branding, Logo
from fastfaktura.adapters.web.labels import LOCALES
from tests.documents.support import pages_text
from tests.documents.test_credit_note_documents import credit_note

SANDBOX = Branding(sandbox=True)
LIVE = Branding(sandbox=False)


def flat(text: str) -> str:
    """Extracted text with its line breaks and spacing folded (a watermark may wrap)."""
    return " ".join(text.split())


def logo_png(colour: tuple[int, int, int, int] = (20, 90, 200, 255)) -> Logo:
    image = Image.new("RGBA", (90, 30), colour)
    for x in range(30):
        image.putpixel((x, 10), (250, 200, 0, 255))  # a stripe: not a flat colour
    out = io.BytesIO()
    image.save(out, format="PNG")
    clean = clean_logo(out.getvalue(), "image/png")
    return Logo(clean.content, clean.content_type)


def images_of(pdf: bytes) -> list[Image.Image]:
    found = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        found += [item.image for item in page.images]
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_a_sandbox_invoice_says_test_in_the_clients_locale_and_a_live_one_does_not(
    locale: str,
) -> None:
    invoice = _sample_invoice(locale)
    mark = SANDBOX_LABELS[locale]["test_mark"]
    for issued in (False, True):
        sandbox = flat(pages_text(render_job(invoice, issued, SANDBOX).content)[0])
        live = flat(pages_text(render_job(invoice, issued, LIVE).content)[0])
        assert mark in sandbox, (locale, issued)
        assert "TEST" not in live, (locale, issued)


def test_the_test_mark_is_on_every_page() -> None:
    invoice = _sample_invoice("fr")
    invoice = msgspec.structs.replace(invoice, lines=invoice.lines * 80)
    pages = pages_text(render_job(invoice, True, SANDBOX).content)
    assert len(pages) > 1
    for text in pages:
        assert SANDBOX_LABELS["fr"]["test_mark"] in flat(text)


@pytest.mark.parametrize("locale", ["fr", "sv"])
def test_a_sandbox_credit_note_says_test_and_a_live_one_does_not(locale: str) -> None:
    note = credit_note(locale)
    sandbox = flat(pages_text(render_job(note, True, SANDBOX).content)[0])
    live = flat(pages_text(render_job(note, True, LIVE).content)[0])
    assert SANDBOX_LABELS[locale]["test_mark"] in sandbox
    assert "TEST" not in live


def test_the_logo_is_embedded_pixel_for_pixel_without_any_fetch_refused() -> None:
    logo = logo_png()
    rendered = render_job(_sample_invoice("en"), True, Branding(logo=logo))
    assert rendered.refused_urls == ()
    (embedded,) = images_of(rendered.content)
    with Image.open(io.BytesIO(logo.content)) as stored:
        assert embedded.size == stored.size
        difference = ImageChops.difference(embedded.convert("RGB"), stored.convert("RGB"))
        assert difference.getbbox() is None
    assert images_of(render_job(_sample_invoice("en"), True, LIVE).content) == []


def test_a_credit_note_shows_the_logo_too() -> None:
    rendered = render_job(credit_note("en"), True, Branding(logo=logo_png()))
    assert len(images_of(rendered.content)) == 1


def test_the_fetcher_serves_its_own_logo_and_refuses_any_other_data_uri() -> None:
    logo = logo_png()
    other = logo_png((200, 0, 0, 255))
    fetcher = AssetFetcher(logo)
    assert fetcher.fetch(logo.data_uri).read() == logo.content
    for url in (other.data_uri, "data:image/png;base64,AAAA", "file:///etc/passwd"):
        with pytest.raises(AssetRefusedError):
            fetcher.fetch(url)
    # What it records of a data: URI is bounded (a logo may be hundreds of kilobytes).
    assert all(len(url) <= 200 for url in fetcher.requested)
    with pytest.raises(AssetRefusedError):
        AssetFetcher().fetch(logo.data_uri)  # no logo in the job: no data: URI at all


def test_the_draft_and_test_marks_are_both_shown_on_a_sandbox_draft() -> None:
    doc_text = flat(pages_text(render_job(_sample_invoice("nb"), False, SANDBOX).content)[0])
    assert build_document(_sample_invoice("nb"), issued=False).draft_mark in doc_text
    assert SANDBOX_LABELS["nb"]["test_mark"] in doc_text
