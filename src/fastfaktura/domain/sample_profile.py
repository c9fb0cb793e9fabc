"""The sample legal profile a new sandbox business starts with (API.md "E-invoices and legal
checks"): an address, a country, a company id and VAT number of a valid format, an IBAN and
BIC, so that a sandbox invoice passes the legal checks at once (the README quickstart). A
live business completes its own. The identifiers are public example numbers, never a real
customer's; the profile can be edited like any other."""

from __future__ import annotations

from typing import Any, Final

SAMPLE_PROFILES: Final[dict[str, dict[str, str]]] = {
    "FR": {
        "address": "1 rue de l'Exemple, 75001 Paris",
        "company_id": "732829320",
        "vat_number": "FR44732829320",
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
    },
    "NO": {
        "address": "Eksempelgata 1, 0150 Oslo",
        "company_id": "974760673",
        "vat_number": "NO974760673MVA",
        "iban": "NO9386011117947",
        "bic": "DNBANOKK",
    },
    "SE": {
        "address": "Exempelgatan 1, 111 22 Stockholm",
        "company_id": "5560360793",
        "vat_number": "SE556036079301",
        "iban": "SE4550000000058398257466",
        "bic": "ESSESESS",
    },
    "DK": {
        "address": "Eksempelvej 1, 1050 København K",
        "company_id": "13585628",
        "vat_number": "DK13585628",
        "iban": "DK5000400440116243",
        "bic": "DABADKKK",
    },
}
# A sandbox business that names no country is French (the demo's, and EUR's default).
DEFAULT_SAMPLE_COUNTRY: Final = "FR"


def sandbox_profile(overrides: dict[str, Any]) -> dict[str, Any]:
    """`overrides` completed with the sample of its country: what a new sandbox business
    registers with. A country we have no sample for gets none (its identifiers are its own)."""
    country = overrides.get("country") or DEFAULT_SAMPLE_COUNTRY
    sample = SAMPLE_PROFILES.get(country)
    if sample is None:
        return dict(overrides)
    return {"country": country, **sample, **overrides}
