"""The STRIPE_* settings as `Settings.from_env` reads them (docs/payments.md "Settings")."""

from __future__ import annotations

from fastfaktura.config import STRIPE_JS_URL, Settings


def test_without_stripe_settings_no_mode_takes_card_payments() -> None:
    stripe = Settings.from_env({}).stripe
    assert stripe.modes == ()
    assert (stripe.secret_key("sandbox"), stripe.publishable_key("live")) == (None, None)
    assert stripe.webhook_secrets == ()
    assert (stripe.api_base, stripe.js_url) == (None, STRIPE_JS_URL)


def test_each_mode_has_its_own_keys() -> None:
    stripe = Settings.from_env(
        {
            "STRIPE_TEST_SECRET_KEY": "sk_test_1",
            "STRIPE_TEST_PUBLISHABLE_KEY": "pk_test_1",
            "STRIPE_LIVE_SECRET_KEY": "sk_live_1",
        }
    ).stripe
    assert stripe.modes == ("sandbox", "live")
    assert (stripe.secret_key("sandbox"), stripe.publishable_key("sandbox")) == (
        "sk_test_1",
        "pk_test_1",
    )
    assert (stripe.secret_key("live"), stripe.publishable_key("live")) == ("sk_live_1", None)
    assert Settings.from_env({"STRIPE_LIVE_SECRET_KEY": "sk_live_1"}).stripe.modes == ("live",)


def test_several_webhook_secrets_are_accepted_comma_separated() -> None:
    stripe = Settings.from_env({"STRIPE_WEBHOOK_SECRET": " whsec_a, whsec_b ,,"}).stripe
    assert stripe.webhook_secrets == ("whsec_a", "whsec_b")


def test_a_local_api_base_serves_stripe_js_too_unless_told_otherwise() -> None:
    local = Settings.from_env({"STRIPE_API_BASE": "http://127.0.0.1:8420/"}).stripe
    assert local.api_base == "http://127.0.0.1:8420"
    assert local.js_url == "http://127.0.0.1:8420/js.stripe.com/v3/"
    told = Settings.from_env(
        {"STRIPE_API_BASE": "http://127.0.0.1:8420", "STRIPE_JS_URL": "https://js.example/v3/"}
    ).stripe
    assert told.js_url == "https://js.example/v3/"
