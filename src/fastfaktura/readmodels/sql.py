"""Loads a read model's named SQL statements (`-- name: xyz` blocks) from
projections/<read model>/*.sql. Only the read side runs them: the query gateway
(`readmodels/queries/`) and the projection machinery (contract `read-model-sql`)."""

from __future__ import annotations

from functools import cache

from fastfaktura.adapters.database import sql_root
from fastfaktura.adapters.named_sql import local_statement, parse_named

__all__ = ["local_statement", "parse_named", "statement", "statements"]


@cache
def statements(read_model: str, file: str) -> dict[str, str]:
    return parse_named((sql_root() / "projections" / read_model / file).read_text())


def statement(read_model: str, file: str, name: str) -> str:
    return statements(read_model, file)[name]
