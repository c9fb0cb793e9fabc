"""Card payment settings (docs/payments.md), apart from config.py only for its length: read
from the environment by Settings.from_env, and importable from fastfaktura.config as before."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

STRIPE_JS_URL = "https://js.stripe.com/v3/"
# Where localstripe (and the tests' server) serves its stand-in for Stripe.js.
LOCAL_STRIPE_JS_PATH = "/js.stripe.com/v3/"


class StripeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Card payments (docs/payments.md). Sandbox businesses use the test keys, live ones the
    live keys; a mode without its secret key offers no card payment."""

    test_secret_key: str | None = None
    live_secret_key: str | None = None
    test_publishable_key: str | None = None
    live_publishable_key: str | None = None
    # Signing secrets of the webhook endpoints (whsec_...): several during a rotation, or one
    # for the test-mode and one for the live-mode endpoint (STRIPE_WEBHOOK_SECRET, comma-separated).
    webhook_secrets: tuple[str, ...] = ()
    # Every Stripe API call goes there when set (a local Stripe-compatible server).
    api_base: str | None = None
    js_url: str = STRIPE_JS_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StripeSettings:
        api_base = (env.get("STRIPE_API_BASE") or "").rstrip("/") or None
        default_js = f"{api_base}{LOCAL_STRIPE_JS_PATH}" if api_base else STRIPE_JS_URL
        secrets = (env.get("STRIPE_WEBHOOK_SECRET") or "").split(",")
        return cls(
            test_secret_key=env.get("STRIPE_TEST_SECRET_KEY") or None,
            live_secret_key=env.get("STRIPE_LIVE_SECRET_KEY") or None,
            test_publishable_key=env.get("STRIPE_TEST_PUBLISHABLE_KEY") or None,
            live_publishable_key=env.get("STRIPE_LIVE_PUBLISHABLE_KEY") or None,
            webhook_secrets=tuple(s.strip() for s in secrets if s.strip()),
            api_base=api_base,
            js_url=env.get("STRIPE_JS_URL") or default_js,
        )

    def secret_key(self, mode: str) -> str | None:
        """The secret key for a business mode (`sandbox` -> test, `live` -> live)."""
        return self.live_secret_key if mode == "live" else self.test_secret_key

    def publishable_key(self, mode: str) -> str | None:
        return self.live_publishable_key if mode == "live" else self.test_publishable_key

    @property
    def modes(self) -> tuple[str, ...]:
        """The business modes that can take card payments (a secret key is configured)."""
        return tuple(mode for mode in ("sandbox", "live") if self.secret_key(mode))
