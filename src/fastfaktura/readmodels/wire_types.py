"""Field types of the answers, described with an example for the OpenAPI document (clients are
generated from it). Shared by the views of this package and the API's own structs, so a field
with one meaning has one description."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta


def described(description: str, *examples: Any) -> Meta:
    """The OpenAPI description and examples of a field (a list of documented objects takes
    none: its items' schema has them)."""
    return Meta(description=description, examples=list(examples) if examples else None)


EXAMPLE_ID = "53c7e82e-a39f-4e88-b66c-8f13f5bdf577"
EXAMPLE_CLIENT_ID = "0b7f6a52-1c1e-4d3f-8a47-5c2b9d8e7f10"
EXAMPLE_INVOICE_ID = "53c7e82e-a39f-4e88-b66c-8f13f5bdf577"
EXAMPLE_TIME = "2026-11-24T10:00:00Z"
EXAMPLE_IBAN = "FR7630006000011234567890189"

Id = Annotated[UUID, described("Its id", EXAMPLE_ID)]
ClientId = Annotated[UUID, described("The client's id", EXAMPLE_CLIENT_ID)]
InvoiceId = Annotated[UUID, described("The invoice's id", EXAMPLE_INVOICE_ID)]
CreatedAt = Annotated[datetime, described("When it was created (RFC 3339, UTC)", EXAMPLE_TIME)]
UpdatedAt = Annotated[datetime, described("When it last changed (RFC 3339, UTC)", EXAMPLE_TIME)]
IssueDate = Annotated[date, described("The UTC date it was issued", "2026-11-24")]

# Parties (the business, a client, and their copies frozen into documents)
PartyName = Annotated[str, described("The name shown on documents", "Acme SARL")]
LegalName = Annotated[
    str | None, described("The registered legal name, when it differs", "Acme SARL")
]
PartyEmail = Annotated[str | None, described("Email address", "billing@example.com")]
PartyPhone = Annotated[str | None, described("Phone number, E.164", "+33612345678")]
PartyAddress = Annotated[
    str | None,
    described("Postal address, lines separated by newlines", "1 rue de la Paix\n75002 Paris"),
]
PartyCountry = Annotated[str | None, described("ISO 3166-1 alpha-2 country code", "FR")]
VatNumber = Annotated[str | None, described("VAT identification number", "FR40123456789")]
CompanyId = Annotated[
    str | None, described("Company registration number (SIREN, org nr, ...)", "123456789")
]
Iban = Annotated[str | None, described("IBAN printed for bank transfers", EXAMPLE_IBAN)]
Bic = Annotated[str | None, described("BIC of the IBAN's bank", "AGRIFRPP")]

# Money and amounts
Cents = Annotated[int, described("Amount in minor units (cents, öre, øre)", 90000)]
Rate = Annotated[int | float, described("VAT rate, percent (up to 2 decimals)", 20)]
