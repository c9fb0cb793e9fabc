"""The API reference pages work with no network: Scalar (`/schema`) and Swagger UI
(`/schema/swagger`) load their scripts from the service itself (api/docs_ui/, pinned).

Chromium runs with every host name but 127.0.0.1 unresolvable, so anything fetched from a CDN
fails; the pages must still render the operations, which only their scripts can do (the HTML
the service sends holds no operation, only a script tag).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.helpers import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium not installed: run `make browser` as root"
)
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def rendered(url: str, profile: Path) -> str:
    dumped = chromium(url, profile, NO_NETWORK, "--virtual-time-budget=20000", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    return dumped.stdout


def test_the_pages_name_no_other_host(server: str) -> None:
    """Nothing the pages load (src, href, url(...)) is on another host. The OpenAPI document
    Swagger UI embeds may hold example URLs (a webhook's, a public page's): text, not loaded."""
    for path in ("/schema", "/schema/swagger"):
        page = httpx.get(f"{server}{path}", timeout=10).text
        loaded = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""", page)
        targets = [first or second for first, second in loaded]
        assert targets, page[:500]
        foreign = [t for t in targets if "://" in t and not t.startswith(server)]
        assert foreign == [], foreign


def test_scalar_renders_the_operations_offline(server: str, tmp_path: Path) -> None:
    served = httpx.get(f"{server}/schema", timeout=10).text
    assert "The business profile" not in served  # only the script can put it there
    dom = rendered(f"{server}/schema", tmp_path / "profile")
    # Scalar renders the sections near the top (the rest as one scrolls): the first operation.
    assert "The business profile" in dom, dom[-3000:]
    assert "Ask AI" not in dom
    assert "Deploy API" not in dom


def test_swagger_ui_renders_the_operations_offline(server: str, tmp_path: Path) -> None:
    dom = rendered(f"{server}/schema/swagger", tmp_path / "profile")
    assert 'class="swagger-ui' in dom, dom[-3000:]
    assert "/api/v1/invoices/{invoice_id}/payments" in dom


def test_the_assets_are_the_pinned_files(server: str) -> None:
    answer = httpx.get(f"{server}/schema-assets/scalar-1.76.4/standalone.js", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert "max-age=86400" in answer.headers["cache-control"]
    assert httpx.get(f"{server}/schema-assets/../app.py", timeout=10).status_code == 404
