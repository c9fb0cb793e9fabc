"""Reading command-line values: each refusal names the option, in one line."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from uuid import UUID


def uuid_arg(value: str, option: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise SystemExit(f"{option} must be a UUID, not {value!r}.") from None


def timestamp_arg(value: str, option: str) -> datetime:
    """An RFC 3339 timestamp; one without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"{option} must be an RFC 3339 timestamp, not {value!r}.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def date_arg(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{option} must be a date, YYYY-MM-DD, not {value!r}.") from None


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return number
