"""The ApiKey aggregate. Its id derives from the key's public prefix, so prefixes are unique."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

KEY_PREFIX_LENGTH: Final = 16
# A key's name is a label people give it ("CI", "accounting export"): at most this long.
KEY_NAME_MAX_LENGTH: Final = 100
_KEY_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/api-key")


def new_key_secret(mode: str) -> str:
    """A fresh key: `ffk_test_` (sandbox) or `ffk_live_` then 256 random bits, URL-safe."""
    tag = "test" if mode == "sandbox" else "live"
    return f"ffk_{tag}_{secrets.token_urlsafe(32)}"


def hash_key(secret: str) -> str:
    """Keys are stored only as their SHA-256 (hex): high-entropy secrets need no salt."""
    return hashlib.sha256(secret.encode()).hexdigest()


def key_prefix(secret: str) -> str:
    return secret[:KEY_PREFIX_LENGTH]


class ApiKey(Aggregate):
    TOPIC = "fastfaktura:ApiKey"

    @event("Created", topic="fastfaktura:ApiKey.Created")
    def __init__(
        self, business_id: UUID, key_prefix: str, key_hash: str, mode: str, issued_at: datetime
    ) -> None:
        self.business_id = business_id
        self.key_prefix = key_prefix
        self.key_hash = key_hash
        self.mode = mode
        self.issued_at = issued_at
        self.revoked_at: datetime | None = None
        # Named by its own event: keys created before names existed replay unchanged.
        self.name: str | None = None

    @staticmethod
    def create_id(key_prefix: str, **_: object) -> UUID:
        return id_for_prefix(key_prefix)

    def rename(self, name: str | None) -> None:
        if name != self.name:
            self._named(name=name)

    @event("Named", topic="fastfaktura:ApiKey.Named")
    def _named(self, name: str | None) -> None:
        self.name = name

    def revoke(self, at: datetime) -> None:
        """Revoking twice is harmless: the first revocation stands."""
        if self.revoked_at is None:
            self._revoked(revoked_at=at)

    @event("Revoked", topic="fastfaktura:ApiKey.Revoked")
    def _revoked(self, revoked_at: datetime) -> None:
        self.revoked_at = revoked_at


def id_for_prefix(prefix: str) -> UUID:
    return uuid5(_KEY_NAMESPACE, prefix)
