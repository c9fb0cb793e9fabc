"""Loads named SQL statements (`-- name: xyz` blocks) from projections/<read model>/*.sql."""

from __future__ import annotations

import re
from functools import cache

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
