"""The account pages' words: every locale has every key, and each page renders in each."""

from __future__ import annotations

import pytest

from fastfaktura.adapters.web.account import page_locale, render_account
from fastfaktura.adapters.web.account_labels import ACCOUNT_LABELS
from fastfaktura.adapters.web.labels import LOCALES


def test_every_locale_has_the_same_words() -> None:
    assert set(ACCOUNT_LABELS) == set(LOCALES)
    english = set(ACCOUNT_LABELS["en"])
    for locale in LOCALES:
        assert set(ACCOUNT_LABELS[locale]) == english, locale
        assert all(ACCOUNT_LABELS[locale].values()), locale


@pytest.mark.parametrize("locale", LOCALES)
def test_the_forms_render_labelled_in_every_locale(locale: str) -> None:
    html = render_account("signup", locale, csrf="tok", signed_in=False, values={}, errors={})
    assert f'<html lang="{locale}">' in html
    for name in ("name", "email", "password"):
        assert f'<label for="f-{name}">' in html
        assert f'id="f-{name}"' in html
    assert 'name="_csrf_token" value="tok"' in html


def test_the_language_is_the_choice_then_the_cookie_then_accept_language() -> None:
    assert page_locale("sv", "fr", "nb") == "sv"
    assert page_locale("de", "fr", "nb") == "fr"
    assert page_locale(None, None, "nb-NO,nb;q=0.9") == "nb"
    assert page_locale(None, None, None) == "en"


def test_user_text_is_escaped() -> None:
    html = render_account(
        "signup", "en", csrf="t", signed_in=False, values={"name": "<script>x</script>"}, errors={}
    )
    assert "<script>x" not in html
    assert "&lt;script&gt;x" in html
