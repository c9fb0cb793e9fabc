"""The sandbox's sample legal profile: complete for its country, valid for the legal checks,
and never over what the business was registered with."""

from __future__ import annotations

import pytest

from fastfaktura.domain.einvoice_rules import Party, check_document
from fastfaktura.domain.sample_profile import SAMPLE_PROFILES, sandbox_profile
from tests.unit.test_einvoice_rules import doc


@pytest.mark.parametrize("country", sorted(SAMPLE_PROFILES))
def test_each_sample_passes_the_legal_checks_of_its_country(country: str) -> None:
    profile = sandbox_profile({"country": country})
    seller = Party(name="Sandbox Co", **profile)
    buyer = Party(name="Client", country=country, email="c@client.example")
    currency = {"NO": "NOK", "SE": "SEK", "DK": "DKK"}.get(country, "EUR")
    report = check_document(
        doc(seller=seller, buyer=buyer, currency=currency, accounting_currency=currency)
    )
    assert report.errors == ()


def test_a_business_without_a_country_gets_the_french_sample() -> None:
    assert sandbox_profile({}) == {"country": "FR", **SAMPLE_PROFILES["FR"]}


def test_what_the_business_gives_wins_over_the_sample() -> None:
    profile = sandbox_profile({"country": "NO", "vat_number": None, "address": "Here 1"})
    assert profile["vat_number"] is None
    assert profile["address"] == "Here 1"
    assert profile["company_id"] == SAMPLE_PROFILES["NO"]["company_id"]


def test_a_country_without_a_sample_gets_no_foreign_identifiers() -> None:
    assert sandbox_profile({"country": "DE", "locale": "en"}) == {"country": "DE", "locale": "en"}
