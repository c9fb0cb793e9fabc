"""How commands print: the consoles, tables at full width, progress bars and JSON-ready data."""

from __future__ import annotations

from typing import Any

import msgspec
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

out = Console()
# Progress bars and complaints go to stderr, so stdout stays what a script reads.
err = Console(stderr=True)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


def print_whole(table: Table) -> None:
    """Print the table at its natural width, however narrow the terminal (or 80 columns when
    not a terminal: a pipe, a cron mail): ids are never cut, so they can be copied."""
    width = Measurement.get(out, out.options.update(width=10_000), table).maximum
    Console(width=max(width, out.width)).print(table)


def plain(value: Any) -> Any:
    """A value as JSON-ready data (msgspec knows UUID, datetime, date and Decimal)."""
    return msgspec.json.decode(msgspec.json.encode(value))
