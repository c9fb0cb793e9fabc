"""What a business's documents show besides the document itself, pure: whether it is a sandbox
business's (a TEST watermark on the PDF, a banner on the public page), and its logo.

The logo travels as bytes and is shown as a `data:` URI, both in the PDF (the renderer's
fetcher refuses every URL, data: included, but WeasyPrint decodes an inline `data:` image
itself, without a fetch) and on the public page: nothing is ever fetched from a URL or a file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Logo:
    """A stored logo: pixels re-encoded by adapters/logo_image.py, PNG or JPEG."""

    content: bytes
    content_type: str

    @property
    def data_uri(self) -> str:
        encoded = base64.b64encode(self.content).decode("ascii")
        return f"data:{self.content_type};base64,{encoded}"


@dataclass(frozen=True)
class Branding:
    """`sandbox`: the business is a sandbox one; `logo`: its current logo, if any."""

    sandbox: bool = False
    logo: Logo | None = None


NO_BRANDING: Final = Branding()

# The sandbox marks, in the client's locale: the PDF's watermark (every page) and the public
# page's banner. "TEST" stays the first word in every language, so it reads at a glance.
SANDBOX_LABELS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "test_mark": "TEST — sans valeur",
        "test_banner": "Document de test (mode bac à sable) : il n'a aucune valeur légale ni "
        "comptable, rien n'est à payer.",
    },
    "en": {
        "test_mark": "TEST — no value",
        "test_banner": "Test document (sandbox mode): it has no legal or accounting value, "
        "nothing is to be paid.",
    },
    "nb": {
        "test_mark": "TEST — ugyldig",
        "test_banner": "Testdokument (sandkassemodus): det har ingen juridisk eller "
        "regnskapsmessig verdi, ingenting skal betales.",
    },
    "sv": {
        "test_mark": "TEST — ogiltig",
        "test_banner": "Testdokument (sandlådeläge): det har inget juridiskt eller "
        "bokföringsmässigt värde, ingenting ska betalas.",
    },
}
