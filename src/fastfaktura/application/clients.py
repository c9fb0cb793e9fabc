"""Commands on clients, with the claims that keep their external ids unique."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from fastfaktura.application.base import Decided, WriteModel, Written
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client, ExternalIdClaim, claim_id


class ClientCommands(WriteModel):
    def register_client(self, business_id: UUID, details: dict[str, Any]) -> Written[Client]:
        business = self.get(Business, business_id)
        details = {"locale": business.profile["locale"], **details}

        def attempt() -> Decided[Client]:
            client = Client.register(business_id, details)
            claim = self._claim(business_id, details.get("external_id"), client.id)
            return Decided(client, (client, claim))

        return self._command(attempt)

    def change_client(
        self, business_id: UUID, client_id: UUID, changes: dict[str, Any]
    ) -> Written[Client]:
        def attempt() -> Decided[Client]:
            client = self.get(Client, client_id, business_id)
            before = client.details.get("external_id")
            effective = client.change(changes)
            touched: list[Aggregate | None] = [client]
            if "external_id" in effective:
                if before is not None:
                    touched.append(self._release(business_id, before, client.id))
                touched.append(self._claim(business_id, effective["external_id"], client.id))
            return Decided(client, touched)

        return self._command(attempt)

    def archive_client(self, business_id: UUID, client_id: UUID) -> Written[Client]:
        def attempt() -> Decided[Client]:
            client = self.get(Client, client_id, business_id)
            touched: list[Aggregate | None] = [client]
            if client.archive(self.clock()):
                external_id = client.details.get("external_id")
                if external_id is not None:
                    touched.append(self._release(business_id, external_id, client.id))
            return Decided(client, touched)

        return self._command(attempt)

    def _claim(
        self, business_id: UUID, external_id: str | None, client_id: UUID
    ) -> ExternalIdClaim | None:
        if external_id is None:
            return None
        claim = self.find(ExternalIdClaim, claim_id(business_id, external_id))
        if claim is None:
            return ExternalIdClaim(
                business_id=business_id, external_id=external_id, client_id=client_id
            )
        claim.claim(client_id)
        return claim

    def _release(self, business_id: UUID, external_id: str, client_id: UUID) -> ExternalIdClaim:
        claim = self.find(ExternalIdClaim, claim_id(business_id, external_id))
        assert claim is not None, "a held external id has its claim"
        claim.release(client_id)
        return claim
