"""The Client aggregate (a business's customer) and the claim that keeps external ids unique."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from fastfaktura.domain.errors import ClientNameRequired, ConflictError, ExternalIdTaken

CLIENT_FIELDS: Final = (
    "name",
    "email",
    "phone",
    "address",
    "country",
    "locale",
    "external_id",
    "tags",
    "vat_number",
    "company_id",
)
_CLAIM_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/client-external-id")


class ClientArchivedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("the client is archived and can no longer be changed")


class Client(Aggregate):
    TOPIC = "fastfaktura:Client"

    @classmethod
    def register(cls, business_id: UUID, details: dict[str, Any]) -> Client:
        """Decide: a client needs a name. (The API checks it too; this guard keeps an event
        that no read model could store out of the log whatever the caller.)"""
        _require_name(details)
        return cls(business_id=business_id, details=details)

    @event("Created", topic="fastfaktura:Client.Created")
    def __init__(self, business_id: UUID, details: dict[str, Any]) -> None:
        self.business_id = business_id
        self.details: dict[str, Any] = {field: details.get(field) for field in CLIENT_FIELDS}
        if self.details["tags"] is None:
            self.details["tags"] = []
        self.archived_at: datetime | None = None

    def change(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Record the fields that really change; returns them (empty: nothing recorded)."""
        if self.archived_at is not None:
            raise ClientArchivedError()
        if "name" in changes:
            _require_name(changes)
        effective = {k: v for k, v in changes.items() if self.details.get(k) != v}
        if effective:
            self._details_changed(changes=effective)
        return effective

    @event("DetailsChanged", topic="fastfaktura:Client.DetailsChanged")
    def _details_changed(self, changes: dict[str, Any]) -> None:
        self.details.update(changes)

    def archive(self, at: datetime) -> bool:
        """Archive once; archiving an archived client changes nothing (returns False)."""
        if self.archived_at is not None:
            return False
        self._archived(archived_at=at)
        return True

    @event("Archived", topic="fastfaktura:Client.Archived")
    def _archived(self, archived_at: datetime) -> None:
        self.archived_at = archived_at

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def _require_name(details: dict[str, Any]) -> None:
    name = details.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ClientNameRequired()


class ExternalIdClaim(Aggregate):
    """Who holds an external id within a business. Its id derives from (business, external id),
    so two concurrent claims collide in the event store and one of them fails."""

    TOPIC = "fastfaktura:ExternalIdClaim"

    @event("Created", topic="fastfaktura:ExternalIdClaim.Created")
    def __init__(self, business_id: UUID, external_id: str, client_id: UUID) -> None:
        self.business_id = business_id
        self.external_id = external_id
        self.holder: UUID | None = client_id

    @staticmethod
    def create_id(business_id: UUID, external_id: str, **_: object) -> UUID:
        return claim_id(business_id, external_id)

    def claim(self, client_id: UUID) -> None:
        if self.holder == client_id:
            return
        if self.holder is not None:
            raise ExternalIdTaken(self.external_id)
        self._reclaimed(client_id=client_id)

    @event("Reclaimed", topic="fastfaktura:ExternalIdClaim.Reclaimed")
    def _reclaimed(self, client_id: UUID) -> None:
        self.holder = client_id

    def release(self, client_id: UUID) -> None:
        if self.holder == client_id:
            self._released()

    @event("Released", topic="fastfaktura:ExternalIdClaim.Released")
    def _released(self) -> None:
        self.holder = None


def claim_id(business_id: UUID, external_id: str) -> UUID:
    return uuid5(_CLAIM_NAMESPACE, f"{business_id}/{external_id}")
