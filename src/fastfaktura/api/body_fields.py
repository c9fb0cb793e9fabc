"""Documented field types of the request bodies and pages (api/schemas.py), for the OpenAPI
document: constraints as api/fields.py checks them, a description and an example each."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from fastfaktura.readmodels.invoice_view import Locale
from fastfaktura.readmodels.wire_types import described

# Decimals may also be written as strings, judged as written (a value, not its rounding).
QUANTITY = r"^[0-9]{1,9}(\.[0-9]{1,4})?$"
TAX_RATE = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
PageNumber = Annotated[int, described("This page's number, from 1", 1)]
PerPageCount = Annotated[int, described("Items per page", 50)]
Total = Annotated[int, described("Items matching, on every page", 1)]

Email = Annotated[
    str, Meta(max_length=254, examples=["billing@example.com"], description="Email address")
]
Phone = Annotated[
    str,
    Meta(
        pattern=r"^\+[1-9][0-9]{1,14}$",
        examples=["+33612345678"],
        description="Phone number, E.164 (+ and country code)",
    ),
]
Country = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=2,
        examples=["FR"],
        description='ISO 3166-1 alpha-2 country code, e.g. "FR"',
    ),
]
# Text as api/input.py takes it: no control character (C0 but tab, newline and carriage
# return; DEL), and not blank.
_PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*"
NON_BLANK_TEXT = f"^{_PRINTABLE}[^\\s\\x00-\\x1f\\x7f]{_PRINTABLE}$"
Text = Annotated[str, Meta(min_length=1, pattern=NON_BLANK_TEXT)]
Tag = Annotated[str, Meta(min_length=1, max_length=100, pattern=NON_BLANK_TEXT)]
Address = (
    Annotated[
        Text,
        described("Postal address, lines separated by newlines", "1 rue de la Paix\n75002 Paris"),
    ]
    | None
)
VatNumber = Annotated[Text, described("VAT identification number", "FR40123456789")] | None
Tags = Annotated[
    Annotated[list[Tag], Meta(max_length=50)],
    described("Free labels (each 1 to 100 characters), replaced whole", ["vip"]),
]
ClientLocale = Annotated[Locale, described("The language of the client's documents", "fr")]
ClientName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        pattern=NON_BLANK_TEXT,
        examples=["Acme SARL"],
        description="The name shown on documents",
    ),
]
Notes = (
    Annotated[
        Annotated[str, Meta(max_length=5000, pattern=NON_BLANK_TEXT)],
        described("Free text printed on the invoice (null clears)", "Thank you for your business"),
    ]
    | None
)
EXTERNAL_ID = described("Your own reference for it, unique among live clients", "CRM-1001")
COMPANY_ID = described("Company registration number (SIREN, org nr, ...)", "123456789")
PaymentMethod = Annotated[
    Literal["bank_transfer", "card", "cash", "other"],
    described("How the money came (or went back)", "bank_transfer"),
]
PaymentReference = (
    Annotated[
        Annotated[str, Meta(max_length=200, pattern=NON_BLANK_TEXT)],
        described("Your reference for it, e.g. the bank transfer's", "SEPA 2026-118"),
    ]
    | None
)
