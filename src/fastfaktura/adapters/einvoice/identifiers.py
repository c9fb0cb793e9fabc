"""Which scheme an identifier of a party belongs to, for the UBL (Peppol BIS) document, pure.

`legal_scheme`: the ISO 6523 ICD code of a company register number (BT-30/BT-47 scheme).
`endpoint`: the electronic address (BT-34/BT-49) and its Peppol EAS scheme: the company
register number where the country has a Peppol scheme for it, else the VAT number where its
country has one, else the party's email (EAS `EM`), else none.
"""

from __future__ import annotations

import re
from typing import Final

# (country, number of digits) -> ICD / EAS code of the national company register.
REGISTER_SCHEMES: Final[dict[tuple[str, int], str]] = {
    ("FR", 9): "0002",  # SIREN (SIRENE)
    ("FR", 14): "0009",  # SIRET
    ("SE", 10): "0007",  # Organisationsnummer
    ("DK", 8): "0184",  # CVR (DIGSTORG)
    ("NO", 9): "0192",  # Organisasjonsnummer (Enhetsregisteret, Brønnøysund)
}
# Country prefix of a VAT number -> EAS code of that country's VAT numbers.
VAT_SCHEMES: Final[dict[str, str]] = {
    "AT": "9914",
    "BE": "9925",
    "DE": "9930",
    "ES": "9920",
    "FR": "9957",
    "NL": "9944",
}
EMAIL_SCHEME: Final = "EM"
_SEPARATORS = re.compile(r"[\s.\-]")


def register_number(company_id: str) -> str:
    """The number without the spaces, dots and dashes people write in it."""
    return _SEPARATORS.sub("", company_id)


def legal_scheme(country: str | None, company_id: str | None) -> str | None:
    """The ICD code of `company_id` in `country`'s register, when it has the register's form."""
    if not country or not company_id:
        return None
    number = register_number(company_id)
    if not number.isdigit():
        return None
    return REGISTER_SCHEMES.get((country.upper(), len(number)))


def endpoint(
    country: str | None, company_id: str | None, vat_number: str | None, email: str | None
) -> tuple[str, str] | None:
    """(EAS scheme, address) of a party's electronic address, or None when it has none."""
    scheme = legal_scheme(country, company_id)
    if scheme is not None and company_id:
        return scheme, register_number(company_id)
    if vat_number:
        vat = register_number(vat_number).upper()
        vat_scheme = VAT_SCHEMES.get(vat[:2])
        if vat_scheme is not None:
            return vat_scheme, vat
    if email:
        return EMAIL_SCHEME, email
    return None
