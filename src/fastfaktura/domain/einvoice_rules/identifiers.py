"""Identifiers checked for real: company ids and VAT numbers by country (python-stdnum), the
IBAN and BIC (schwifty). Both libraries are pure (no I/O), so the domain may use them.

Only the countries we know the registry of are checked; another country's identifier is
taken as given.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import exceptions as stdnum_errors
from stdnum.dk import cvr as dk_cvr
from stdnum.dk import vat as dk_vat
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret
from stdnum.fr import tva as fr_tva
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_mva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import vat as se_vat

from fastfaktura.domain.einvoice_rules.model import EU_COUNTRIES

VAT_CHECKS: Final[dict[str, ModuleType]] = {
    "FR": fr_tva,
    "NO": no_mva,
    "SE": se_vat,
    "DK": dk_vat,
    "GB": gb_vat,
}
COMPANY_ID_NAMES: Final = {
    "FR": "a SIREN (9 digits) or SIRET (14 digits)",
    "NO": "an organisasjonsnummer (9 digits)",
    "SE": "an organisationsnummer (10 digits)",
    "DK": "a CVR number (8 digits)",
}


def _valid(module: ModuleType, value: str) -> bool:
    try:
        module.validate(value)
    except stdnum_errors.ValidationError:
        return False
    return True


def vat_number_valid(vat_number: str) -> bool | None:
    """True or False for a VAT number of a country we check (by its prefix), None otherwise."""
    prefix = vat_number[:2].upper()
    country = "GR" if prefix == "EL" else prefix
    if country in VAT_CHECKS:
        return _valid(VAT_CHECKS[country], vat_number)
    if country in EU_COUNTRIES:
        return _valid(eu_vat, vat_number)
    return None


def company_id_valid(country: str | None, company_id: str) -> bool | None:
    """True or False for a company id of a country we check, None otherwise."""
    if country == "FR":
        digits = company_id.replace(" ", "")
        module = fr_siret if len(digits) == 14 else fr_siren
        return _valid(module, company_id)
    checks = {"NO": no_orgnr, "SE": se_orgnr, "DK": dk_cvr}
    return _valid(checks[country], company_id) if country in checks else None


def siren_of(company_id: str | None) -> str | None:
    """The SIREN a French company id holds (a SIRET starts with it), when it is valid."""
    if not company_id or company_id_valid("FR", company_id) is not True:
        return None
    return company_id.replace(" ", "")[:9]


def iban_valid(iban: str) -> bool:
    try:
        IBAN(iban)
    except (SchwiftyException, ValueError):
        return False
    return True


def bic_valid(bic: str) -> bool:
    try:
        BIC(bic)
    except (SchwiftyException, ValueError):
        return False
    return True


def describe_company_id(country: str | None) -> str:
    return COMPANY_ID_NAMES.get(country or "", "a company id")
