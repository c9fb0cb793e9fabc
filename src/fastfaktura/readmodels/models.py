"""The read models: each maps one aggregate's state to rows. SQL: projections/<name>/."""

from __future__ import annotations

from typing import Any

from fastfaktura.domain.api_key import ApiKey
from fastfaktura.domain.business import PROFILE_DEFAULTS, Business
from fastfaktura.domain.client import CLIENT_FIELDS, Client
from fastfaktura.readmodels.model import ReadModel, Row


class BusinessReadModel(ReadModel):
    name = "business"
    aggregate_type = Business
    tables = {"rm_business": ("business_id",)}

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Business)
        row: Row = {
            "business_id": aggregate.id,
            "name": aggregate.name,
            "mode": aggregate.mode,
            **{field: aggregate.profile.get(field) for field in PROFILE_DEFAULTS},
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        return {"rm_business": [row]}


class ApiKeysReadModel(ReadModel):
    name = "api_keys"
    aggregate_type = ApiKey
    # Looked up by hash before the tenant is known: the hash is the key.
    tables = {"rm_api_keys": ("key_hash",)}

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, ApiKey)
        row: Row = {
            "key_hash": aggregate.key_hash,
            "business_id": aggregate.business_id,
            "key_prefix": aggregate.key_prefix,
            "mode": aggregate.mode,
            "issued_at": aggregate.issued_at,
            "revoked_at": aggregate.revoked_at,
            "version": aggregate.version,
        }
        return {"rm_api_keys": [row]}


class ClientsReadModel(ReadModel):
    name = "clients"
    aggregate_type = Client
    tables = {"rm_clients": ("business_id", "id")}

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Client)
        row: Row = {
            "business_id": aggregate.business_id,
            "id": aggregate.id,
            **{field: aggregate.details.get(field) for field in CLIENT_FIELDS},
            "archived_at": aggregate.archived_at,
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        row["tags"] = list(row["tags"] or [])
        return {"rm_clients": [row]}


READ_MODELS: tuple[ReadModel, ...] = (BusinessReadModel(), ApiKeysReadModel(), ClientsReadModel())


def read_model(name: str) -> ReadModel:
    for model in READ_MODELS:
        if model.name == name:
            return model
    raise KeyError(name)
