"""One `fastfaktura serve` for the browser tests of this folder (the account pages, the docs
offline, the public page): each of them starts nothing else and leaves nothing the others
read, so they share a server rather than each starting its own (its start is most of their
cost). It runs on the suite's database, on a free port in 8600-8699, with PUBLIC_BASE_URL
pointing at it, and stops when the folder's last test is done."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import free_port, serving

PORTS = range(8600, 8700)
ONE_PDF_WORKER = {"FASTFAKTURA_PDF_WORKERS": "1"}


@pytest.fixture(scope="package")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`fastfaktura serve` on the suite's database; its base URL once /health is 200."""
    log = tmp_path_factory.mktemp("e2e-serve") / "serve.log"
    # One PDF worker: these tests render few PDFs, and each worker's warm-up renders are most
    # of the server's start.
    with serving(database_url, free_port(PORTS), log, ONE_PDF_WORKER) as base:
        yield base
