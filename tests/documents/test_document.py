"""The document value and its country mentions, without rendering."""

from __future__ import annotations

from typing import Any

import pytest

from fastfaktura.api.schemas import Seller
from fastfaktura.documents.document import legal_mentions


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


def test_other_countries_have_no_mention_yet() -> None:
    # Sweden's "Godkänd för F-skatt" needs a business setting that does not exist yet.
    assert legal_mentions(seller(country="SE", company_id="556677-8899"), "sv") == ()
    assert legal_mentions(seller(country=None), "en") == ()
