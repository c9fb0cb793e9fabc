"""Named SQL statements (`-- name: xyz` blocks) from a .sql file beside the module that owns
them: the SQL that serves no read model (idempotency keys, rate limits, the Stripe inbox, the
delivery worker's bookkeeping, tracking) lives next to the code that runs it, and ships inside
the package. A read model's statements are the read side's (`readmodels/sql.py`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_named(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    # parts: [preamble, name1, body1, name2, body2, ...]
    return {
        name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


@cache
def _file_statements(path: Path) -> dict[str, str]:
    return parse_named(path.read_text())


@cache  # resolving the path costs system calls, and statements are read on every request
def local_statement(owner: str, file: str, name: str) -> str:
    """A statement from `file` in the folder of the module `owner` (pass its `__file__`)."""
    return _file_statements(Path(owner).resolve().parent / file)[name]
