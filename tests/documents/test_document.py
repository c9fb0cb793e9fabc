"""The document value and its country mentions, without rendering."""

from __future__ import annotations

from typing import Any

import pytest

from fastfaktura.adapters.pdf.document import legal_mentions
from fastfaktura.api.schemas import Seller


def seller(**fields: Any) -> Seller:
    base: dict[str, Any] = dict.fromkeys(
        ("legal_name", "email", "phone", "address", "country", "vat_number", "company_id")
    )
    return Seller(name="Seller", iban=None, bic=None, **{**base, **fields})


@pytest.mark.parametrize(
    ("locale", "indemnity"),
    [("fr", "40,00\u00a0€"), ("en", "€40.00"), ("nb", "40,00\u00a0€"), ("sv", "40,00\u00a0€")],
)
def test_a_french_seller_states_penalties_and_the_40_eur_indemnity(
    locale: str, indemnity: str
) -> None:
    [mention] = legal_mentions(seller(country="FR"), locale)
    assert indemnity in mention
    assert "L441-10" in mention
    assert "10" in mention


def test_a_norwegian_seller_states_its_org_number_mva_and_the_register() -> None:
    registered = seller(
        country="NO", company_id="999 999 999", vat_number="NO999999999MVA", legal_name="Fisk AS"
    )
    assert legal_mentions(registered, "nb") == ("Org.nr. 999 999 999 MVA · Foretaksregisteret",)
    sole = seller(country="NO", company_id="999 999 999", legal_name="Ola Nordmann")
    assert legal_mentions(sole, "en") == ("Org.nr. 999 999 999",)
    assert legal_mentions(seller(country="NO"), "nb") == ()


def test_a_swedish_seller_states_f_skatt_only_when_approved() -> None:
    assert legal_mentions(seller(country="SE", f_skatt=True), "sv") == ("Godkänd för F-skatt",)
    assert legal_mentions(seller(country="SE", company_id="556677-8899"), "sv") == ()


def test_the_french_vat_franchise_is_stated_only_when_no_vat_is_charged() -> None:
    franchise = seller(country="FR", vat_exempt_293b=True)
    mentions = legal_mentions(franchise, "en", all_rates_zero=True)
    assert mentions[0] == "TVA non applicable, art. 293 B du CGI"  # French wording, always
    assert "L441-10" in mentions[1]
    assert "293 B" not in " ".join(legal_mentions(franchise, "en", all_rates_zero=False))
    assert "293 B" not in " ".join(legal_mentions(seller(country="FR"), "fr", all_rates_zero=True))


@pytest.mark.parametrize(
    ("locale", "rate"),
    [("fr", "12,5\u00a0%"), ("en", "12.5%"), ("nb", "12,5\u00a0%"), ("sv", "12,5\u00a0%")],
)
def test_a_contractual_late_payment_rate_replaces_the_legal_default(locale: str, rate: str) -> None:
    [mention] = legal_mentions(seller(country="FR", late_payment_rate=12.5), locale)
    assert rate in mention
    assert "BCE" not in mention
    assert "European Central Bank" not in mention


def test_other_countries_have_no_mention() -> None:
    assert legal_mentions(seller(country="DE", f_skatt=True, vat_exempt_293b=True), "en") == ()
    assert legal_mentions(seller(country=None), "en") == ()
