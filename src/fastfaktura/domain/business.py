"""The Business aggregate: a tenant's profile. Every other aggregate carries its id."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from fastfaktura.domain.errors import ProfileFieldsNotEditable

# Profile fields a business can edit, with their defaults at registration.
PROFILE_DEFAULTS: Final[dict[str, Any]] = {
    "legal_name": None,
    "email": None,
    "phone": None,
    "address": None,
    "country": None,
    "vat_number": None,
    "company_id": None,
    "iban": None,
    "bic": None,
    "currency": "EUR",
    "locale": "en",
    "payment_terms_days": 30,
    "invoice_prefix": "F",
    # Credit notes are numbered in their own series: {credit_note_prefix}{YYYY}-{NNNNN}.
    "credit_note_prefix": "A",
    # Legal settings printed on invoices: France, VAT exemption (art. 293 B du CGI) and a
    # contractual late-payment rate (percent; None: the legal default); Sweden, F-skatt.
    "vat_exempt_293b": False,
    "late_payment_rate": None,
    "f_skatt": False,
    # E-invoicing (France's reform): VAT due on debits rather than on receipts, and the
    # default operation category of new invoices (goods, services or mixed).
    "vat_on_debits": False,
    "operation_category": "services",
}
EDITABLE_FIELDS: Final = frozenset({"name", *PROFILE_DEFAULTS})


class Business(Aggregate):
    TOPIC = "fastfaktura:Business"

    @event("Created", topic="fastfaktura:Business.Created")
    def __init__(self, name: str, mode: str, profile: dict[str, Any]) -> None:
        self.name = name
        self.mode = mode
        self.profile: dict[str, Any] = dict(profile)

    @classmethod
    def register(cls, name: str, mode: str, **overrides: Any) -> Business:
        unknown = set(overrides) - set(PROFILE_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        return cls(name=name, mode=mode, profile={**PROFILE_DEFAULTS, **overrides})

    def change_profile(self, changes: dict[str, Any]) -> None:
        """Record only what really changes; an edit that changes nothing records no event."""
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ProfileFieldsNotEditable(unknown)
        effective = {k: v for k, v in changes.items() if self.field(k) != v}
        if effective:
            self._profile_changed(changes=effective)

    @event("ProfileChanged", topic="fastfaktura:Business.ProfileChanged")
    def _profile_changed(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key == "name":
                self.name = value
            else:
                self.profile[key] = value

    def note_webhook_endpoint_disabled(self, endpoint_id: UUID, url: str, reason: str) -> None:
        """A webhook endpoint that failed for the whole retry window was disabled: a fact of the
        business's history, so the event feed, its other endpoints and the audit see it."""
        self._webhook_endpoint_disabled(endpoint_id=endpoint_id, url=url, reason=reason)

    @event("WebhookEndpointDisabled", topic="fastfaktura:Business.WebhookEndpointDisabled")
    def _webhook_endpoint_disabled(self, endpoint_id: UUID, url: str, reason: str) -> None:
        """Nothing of the profile changes; the endpoint's own state is in webhook_endpoints."""

    def change_logo(self, sha256: str, content_type: str, width: int, height: int) -> None:
        """A new logo (its pixels are stored apart, by digest): records `LogoChanged` unless
        this very image is the logo already (a repeated upload changes nothing)."""
        current = self.logo
        if current is None or current["sha256"] != sha256:
            self._logo_changed(sha256=sha256, content_type=content_type, width=width, height=height)

    @event("LogoChanged", topic="fastfaktura:Business.LogoChanged")
    def _logo_changed(self, sha256: str, content_type: str, width: int, height: int) -> None:
        self.current_logo: dict[str, Any] | None = {
            "sha256": sha256,
            "content_type": content_type,
            "width": width,
            "height": height,
        }

    def remove_logo(self) -> None:
        """No logo from now on; removing none records nothing."""
        if self.logo is not None:
            self._logo_removed(sha256=self.logo["sha256"])

    @event("LogoRemoved", topic="fastfaktura:Business.LogoRemoved")
    def _logo_removed(self, sha256: str) -> None:
        self.current_logo = None

    @property
    def logo(self) -> dict[str, Any] | None:
        """The current logo's digest, type and size (businesses older than logos have none)."""
        logo: dict[str, Any] | None = getattr(self, "current_logo", None)
        return logo

    def field(self, key: str) -> Any:
        """A profile value; settings added after a business was created read as their default."""
        return self.name if key == "name" else self.profile.get(key, PROFILE_DEFAULTS.get(key))

    @property
    def business_id(self) -> UUID:
        return self.id
