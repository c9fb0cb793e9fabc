"""The Invoicing application: one method per command, each load -> decide -> save.

Every method returns a `Written` carrying the aggregate and the notification position of its
last event, so the API can wait until the read models show the write (read-your-writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from fastfaktura.domain.api_key import ApiKey, hash_key, id_for_prefix, key_prefix, new_key_secret
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client, ExternalIdClaim, claim_id
from fastfaktura.domain.errors import ApiKeyNotFoundError, ConflictError, NotFoundError

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
Clock = Callable[[], datetime]

# Optimistic-concurrency conflicts are retried this many times before answering 409.
MAX_ATTEMPTS = 8


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Written(Generic[T]):
    """What a command wrote: the resulting object and (notification id, topic) per event."""

    value: T
    recorded: tuple[tuple[int, str], ...]

    @property
    def position(self) -> int | None:
        return max((nid for nid, _ in self.recorded), default=None)


@dataclass(frozen=True)
class IssuedKey:
    business_id: UUID
    secret: str
    prefix: str


class Invoicing(Application[UUID]):
    name = "Invoicing"
    log_section_size = 1000

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env)
        self.clock = clock

    # -- queries on the write model (used by commands, replay and the CLI) -----------------

    def get(
        self, aggregate_type: type[A], aggregate_id: UUID, business_id: UUID | None = None
    ) -> A:
        """Load an aggregate of that type, of that business; anything else is 'not found'."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(aggregate_type.__name__.lower()) from None
        if not isinstance(aggregate, aggregate_type):
            raise NotFoundError(aggregate_type.__name__.lower())
        if business_id is not None and getattr(aggregate, "business_id", None) != business_id:
            raise NotFoundError(aggregate_type.__name__.lower())
        return aggregate

    # -- businesses and keys ----------------------------------------------------------------

    def register_business(self, name: str, mode: str, **profile: Any) -> Written[IssuedKey]:
        """A new business and its first API key, in one transaction."""
        business = Business.register(name=name, mode=mode, **profile)

        def attempt() -> Written[IssuedKey]:
            key, api_key = self._new_key(business.id, mode)
            return self._saved(IssuedKey(business.id, key, api_key.key_prefix), business, api_key)

        return _retrying(attempt)

    def issue_api_key(self, business_id: UUID) -> Written[IssuedKey]:
        business = self.get(Business, business_id)

        def attempt() -> Written[IssuedKey]:
            key, api_key = self._new_key(business.id, business.mode)
            return self._saved(IssuedKey(business.id, key, api_key.key_prefix), api_key)

        return _retrying(attempt)

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

    def revoke_api_key(self, prefix: str) -> Written[ApiKey]:
        try:
            api_key: Aggregate = self.repository.get(id_for_prefix(prefix))
        except AggregateNotFoundError:
            raise ApiKeyNotFoundError(prefix) from None
        assert isinstance(api_key, ApiKey)
        api_key.revoke(self.clock())
        return self._saved(api_key, api_key)

    def change_business_profile(
        self, business_id: UUID, changes: dict[str, Any]
    ) -> Written[Business]:
        def attempt() -> Written[Business]:
            business = self.get(Business, business_id)
            business.change_profile(changes)
            return self._saved(business, business)

        return _retrying(attempt)

    # -- clients ----------------------------------------------------------------------------

    def register_client(self, business_id: UUID, details: dict[str, Any]) -> Written[Client]:
        business = self.get(Business, business_id)
        details = {"locale": business.profile["locale"], **details}

        def attempt() -> Written[Client]:
            client = Client(business_id=business_id, details=details)
            claim = self._claim(business_id, details.get("external_id"), client.id)
            return self._saved(client, client, claim)

        return _retrying(attempt)

    def change_client(
        self, business_id: UUID, client_id: UUID, changes: dict[str, Any]
    ) -> Written[Client]:
        def attempt() -> Written[Client]:
            client = self.get(Client, client_id, business_id)
            before = client.details.get("external_id")
            effective = client.change(changes)
            touched: list[Aggregate] = [client]
            if "external_id" in effective:
                if before is not None:
                    touched.append(self._release(business_id, before, client.id))
                claim = self._claim(business_id, effective["external_id"], client.id)
                if claim is not None:
                    touched.append(claim)
            return self._saved(client, *touched)

        return _retrying(attempt)

    def archive_client(self, business_id: UUID, client_id: UUID) -> Written[Client]:
        def attempt() -> Written[Client]:
            client = self.get(Client, client_id, business_id)
            touched: list[Aggregate] = [client]
            if client.archive(self.clock()):
                external_id = client.details.get("external_id")
                if external_id is not None:
                    touched.append(self._release(business_id, external_id, client.id))
            return self._saved(client, *touched)

        return _retrying(attempt)

    def _claim(
        self, business_id: UUID, external_id: str | None, client_id: UUID
    ) -> ExternalIdClaim | None:
        if external_id is None:
            return None
        try:
            claim: Aggregate = self.repository.get(claim_id(business_id, external_id))
        except AggregateNotFoundError:
            return ExternalIdClaim(
                business_id=business_id, external_id=external_id, client_id=client_id
            )
        assert isinstance(claim, ExternalIdClaim)
        claim.claim(client_id)
        return claim

    def _release(self, business_id: UUID, external_id: str, client_id: UUID) -> ExternalIdClaim:
        claim: Aggregate = self.repository.get(claim_id(business_id, external_id))
        assert isinstance(claim, ExternalIdClaim)
        claim.release(client_id)
        return claim

    # -- saving -----------------------------------------------------------------------------

    def _saved(self, value: T, *aggregates: Aggregate | None) -> Written[T]:
        return Written(value, recorded(self.save(*aggregates)))


def recorded(recordings: Iterable[Recording[UUID]]) -> tuple[tuple[int, str], ...]:
    return tuple((r.notification.id, r.notification.topic) for r in recordings)


def _retrying(attempt: Callable[[], T]) -> T:
    """Run a load-decide-save attempt again when a concurrent writer won the race."""
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    try:
        return attempt()
    except IntegrityError:
        raise ConflictError("the resource was changed concurrently; retry the request") from None
