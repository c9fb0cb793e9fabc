"""Loads named SQL statements (`-- name: xyz` blocks): a read model's from
projections/<read model>/*.sql, any other from the .sql file beside the module that owns it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from fastfaktura.adapters.database import sql_root

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_named(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    # parts: [preamble, name1, body1, name2, body2, ...]
    return {
        name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


@cache
def statements(read_model: str, file: str) -> dict[str, str]:
    return parse_named((sql_root() / "projections" / read_model / file).read_text())


def statement(read_model: str, file: str, name: str) -> str:
    return statements(read_model, file)[name]


@cache
def _file_statements(path: Path) -> dict[str, str]:
    return parse_named(path.read_text())


def local_statement(owner: str, file: str, name: str) -> str:
    """A statement from `file` in the folder of the module `owner` (pass its `__file__`): the
    SQL that serves no read model (idempotency keys, rate limits, the Stripe inbox, tracking)
    lives next to the code that runs it, and ships inside the package."""
    return _file_statements(Path(owner).resolve().parent / file)[name]
