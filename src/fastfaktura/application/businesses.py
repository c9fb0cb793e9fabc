"""Commands on businesses and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastfaktura.application.base import Decided, WriteModel, Written
from fastfaktura.domain.api_key import ApiKey, hash_key, id_for_prefix, key_prefix, new_key_secret
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import ApiKeyNotFoundError
from fastfaktura.domain.sample_profile import sandbox_profile


@dataclass(frozen=True)
class IssuedKey:
    business_id: UUID
    secret: str
    prefix: str
    # The key's state as created (its name, when it was issued), for the API's answer.
    api_key: ApiKey | None = None


class BusinessCommands(WriteModel):
    def register_business(self, name: str, mode: str, **profile: Any) -> Written[IssuedKey]:
        """A new business and its first API key, in one transaction. A sandbox business
        starts with the sample legal profile of its country (domain/sample_profile.py)."""
        if mode == "sandbox":
            profile = sandbox_profile(profile)
        business = Business.register(name=name, mode=mode, **profile)

        def attempt() -> Decided[IssuedKey]:
            # A fresh key each attempt: a clash of key prefixes is a conflict, tried again.
            key, api_key = self._new_key(business.id, mode)
            return Decided(IssuedKey(business.id, key, api_key.key_prefix), (business, api_key))

        return self._command(attempt)

    def issue_api_key(self, business_id: UUID, name: str | None = None) -> Written[IssuedKey]:
        business = self.get(Business, business_id)

        def attempt() -> Decided[IssuedKey]:
            key, api_key = self._new_key(business.id, business.mode)
            api_key.rename(name)
            return Decided(IssuedKey(business.id, key, api_key.key_prefix, api_key), (api_key,))

        return self._command(attempt)

    def _new_key(self, business_id: UUID, mode: str) -> tuple[str, ApiKey]:
        secret = new_key_secret(mode)
        api_key = ApiKey(
            business_id=business_id,
            key_prefix=key_prefix(secret),
            key_hash=hash_key(secret),
            mode=mode,
            issued_at=self.clock(),
        )
        return secret, api_key

    def revoke_api_key(self, prefix: str, business_id: UUID | None = None) -> Written[ApiKey]:
        """Revoke a key; given `business_id`, only a key of that business (another business's
        prefix is 'not found', as one that does not exist)."""

        def attempt() -> Decided[ApiKey]:
            api_key = self.find(ApiKey, id_for_prefix(prefix))
            if api_key is None or business_id not in (None, api_key.business_id):
                raise ApiKeyNotFoundError(prefix)
            api_key.revoke(self.clock())  # a second revocation records nothing
            return Decided(api_key, (api_key,))

        return self._command(attempt)

    def change_business_profile(
        self, business_id: UUID, changes: dict[str, Any]
    ) -> Written[Business]:
        return self._change(
            Business, business_id, None, lambda business: business.change_profile(changes)
        )

    def change_business_logo(
        self, business_id: UUID, sha256: str, content_type: str, width: int, height: int
    ) -> Written[Business]:
        """The logo whose pixels are stored under `sha256` becomes the business's logo."""
        return self._change(
            Business,
            business_id,
            None,
            lambda business: business.change_logo(sha256, content_type, width, height),
        )

    def remove_business_logo(self, business_id: UUID) -> Written[Business]:
        return self._change(Business, business_id, None, lambda business: business.remove_logo())

    def record_webhook_endpoint_disabled(
        self, business_id: UUID, endpoint_id: UUID, url: str, reason: str
    ) -> Written[Business]:
        return self._change(
            Business,
            business_id,
            None,
            lambda business: business.note_webhook_endpoint_disabled(endpoint_id, url, reason),
        )
