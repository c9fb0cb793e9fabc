"""`fastfaktura audit export`: a business's journal of a year, from its events alone, as the
French FEC (docs/audit.md "The FEC export")."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from fastfaktura.adapters.business_events import business_events
from fastfaktura.adapters.fec import ForeignCurrency, fec_text, file_name, siren
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import err
from fastfaktura.config import Settings
from fastfaktura.domain.business import Business
from fastfaktura.domain.ledger import TOPIC_PREFIXES, Ledger


def year_arg(value: str) -> int:
    """An argparse type: a calendar year, YYYY."""
    if len(value) != 4 or not value.isdigit() or int(value) < 1000:
        raise argparse.ArgumentTypeError(f"must be a year, YYYY, not {value!r}")
    return int(value)


def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    ledger = Ledger()
    try:
        business_id = ctx.business(args.business)
        events = ctx.events
        for stored in business_events(ctx.direct_url, business_id, TOPIC_PREFIXES):
            ledger.apply(events.decode(stored))
    finally:
        ctx.close()
    business = ledger.aggregates.get(business_id)
    if not isinstance(business, Business):
        err.print(f"No business {business_id}.", highlight=False, soft_wrap=True)
        return 1
    entries = ledger.year(args.year)
    try:
        text = fec_text(entries)
    except ForeignCurrency as exc:
        err.print(
            f"Not exported: {', '.join(exc.pieces)} are in another currency than EUR, and"
            " FastFaktura records no exchange rate to state them in euros.",
            highlight=False,
            soft_wrap=True,
        )
        return 1
    number = siren(business.field("company_id"))
    # The fiscal year is the calendar year: it closes on 31 December.
    name = file_name(number, date(args.year, 12, 31)) if number else None
    target = Path(args.output) if args.output else None
    if target is not None and target.is_dir():
        if name is None:
            err.print(
                "The business has no SIREN (company_id) to name the file after:"
                " give --output a file name.",
                soft_wrap=True,
            )
            return 1
        target = target / name
    if target is None:
        sys.stdout.buffer.write(text.encode())
        sys.stdout.flush()
    else:
        try:
            target.write_bytes(text.encode())
        except OSError as exc:
            err.print(f"--output {target}: {exc.strerror}.", highlight=False, soft_wrap=True)
            return 1
    lines = sum(len(n.entry.lines) for n in entries)
    err.print(
        f"{len(entries)} entries ({lines} lines) of {args.year}"
        + (f" written to {target}" if target else "")
        + (f"; the file's name by law: {name}" if name else "; no SIREN (company_id): no file name")
        + ".",
        highlight=False,
        soft_wrap=True,
    )
    return 0
