"""The renderer alone: the URL fetcher's allow-list, and markup that does reference URLs."""

from __future__ import annotations

import pytest
from weasyprint import HTML

from fastfaktura.adapters.pdf.render import (
    ASSET_NAMES,
    ASSET_SCHEME,
    AssetFetcher,
    AssetRefusedError,
)

REFUSED = [
    "file:///etc/passwd",
    "file:///proc/self/environ",
    "http://127.0.0.1:9/x.css",
    "https://example.com/x.png",
    "ftp://example.com/x",
    "data:text/css,body{color:red}",
    f"{ASSET_SCHEME}../../../../etc/passwd",
    f"{ASSET_SCHEME}/etc/passwd",
    f"{ASSET_SCHEME}invoice.css",
    f"{ASSET_SCHEME}fonts/../../document.py",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_fetcher_refuses_anything_but_the_assets(url: str) -> None:
    fetcher = AssetFetcher()
    with pytest.raises(AssetRefusedError):
        fetcher.fetch(url)
    with pytest.raises(AssetRefusedError):
        fetcher.open(url)
    assert fetcher.refused == [url, url]


def test_the_fetcher_serves_the_packaged_fonts() -> None:
    fetcher = AssetFetcher()
    for name in sorted(ASSET_NAMES):
        response = fetcher.fetch(f"{ASSET_SCHEME}{name}")
        assert response.read()[:4] == b"\x00\x01\x00\x00"  # a TrueType font
        assert response.content_type == "font/ttf"
    assert fetcher.refused == []


def test_markup_that_references_files_and_urls_renders_without_fetching_them() -> None:
    """Even raw markup (which the autoescaped template never produces) reaches nothing."""
    fetcher = AssetFetcher()
    pdf = HTML(
        string=(
            '<link rel=stylesheet href="http://127.0.0.1:9/x.css">'
            '<style>@import url("file:///etc/passwd");</style>'
            '<p>hello</p><img src="file:///etc/passwd"><img src="https://example.com/a.png">'
            '<div style="background: url(http://127.0.0.1:9/bg.png)">x</div>'
        ),
        base_url=ASSET_SCHEME,
        url_fetcher=fetcher,
    ).write_pdf()
    assert pdf.startswith(b"%PDF-")
    assert set(fetcher.refused) == {
        "http://127.0.0.1:9/x.css",
        "file:///etc/passwd",
        "https://example.com/a.png",
        "http://127.0.0.1:9/bg.png",
    }
    assert fetcher.requested == fetcher.refused
