"""`fastfaktura audit replay`: fold every aggregate from its events and compare with the read
models, or print states as they stood at a moment."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from fastfaktura.cli.arguments import timestamp_arg, uuid_arg
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import err, out, plain, progress
from fastfaktura.config import Settings
from fastfaktura.domain.errors import DomainError
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels import audit
from fastfaktura.readmodels.model import Row
from fastfaktura.readmodels.models import READ_MODELS, read_model


def cmd_audit_replay(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    try:
        business = ctx.business(args.business) if args.business else None
        if args.as_of or args.invoice:
            return _print_as_of(ctx, args, business)
        with progress() as bars:
            tasks = {m.name: bars.add_task(f"replay {m.name}", total=None) for m in READ_MODELS}

            def advance(name: str, count: int) -> None:
                bars.advance(tasks[name], count)

            # One snapshot for every model; each aggregate decoded and folded once for all the
            # models built from it, in worker processes (readmodels/audit_scan.py).
            differences = audit.compare_models(
                ctx.events,
                ctx.direct_url,
                READ_MODELS,
                business_id=business,
                progress=advance,
                workers=settings.pools.cli_workers,
            )
    finally:
        ctx.close()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not differences,
                    "differences": [d.__dict__ | {"text": str(d)} for d in differences],
                }
            )
        )
    elif differences:
        for difference in differences:
            out.print(f"[red]DIFF[/red] {difference}")
        out.print(f"{len(differences)} difference(s) between the events and the read models.")
    else:
        out.print("Read models agree with the events.")
    return 1 if differences else 0


def _print_as_of(ctx: Context, args: argparse.Namespace, business: UUID | None) -> int:
    """Print states rebuilt from events up to --as-of (default: now); --invoice: that one."""
    as_of = timestamp_arg(args.as_of, "--as-of") if args.as_of else datetime.now(UTC)
    rows: list[tuple[str, Row]]
    if args.invoice:
        try:
            invoice = ctx.app.get(Invoice, uuid_arg(args.invoice, "--invoice"), business)
        except DomainError:
            err.print(f"No invoice {args.invoice}.")
            return 1
        state = _as_of(ctx, invoice.id, as_of)
        if state is None:
            err.print(f"Invoice {args.invoice} did not exist at {as_of.isoformat()}.")
            return 1
        rows = [("rm_invoices", row) for row in read_model("invoices").rows(state)["rm_invoices"]]
        rows += _credit_notes_as_of(ctx, state, as_of)
    else:
        rows = _rows_as_of(ctx, as_of, business)
    states = [{"table": table, **{k: plain(v) for k, v in row.items()}} for table, row in rows]
    print(
        json.dumps({"as_of": as_of.isoformat(), "states": states}, indent=None if args.json else 2)
    )
    return 0


# Kept here, not in readmodels/audit.py, while the read side moves onto an event-reader port:
# one aggregate's own history is the write side's (the application's event store).


def _as_of(ctx: Context, aggregate_id: UUID, as_of: datetime) -> Any:
    """The aggregate folded from its events recorded up to `as_of`; None before it existed."""
    state: Any = None
    for event in ctx.app.events.get(aggregate_id):
        if getattr(event, "timestamp") > as_of:  # noqa: B009
            break  # a stream's events are recorded in version order: the rest is later
        state = cast(Any, event).mutate(state)
    return state


def _credit_notes_as_of(ctx: Context, invoice: Any, as_of: datetime) -> list[tuple[str, Row]]:
    """The credit notes the invoice's events up to `as_of` name (`credited`, `cancelled`),
    each as it stood then (its refunds up to `as_of`), in the order they were issued."""
    named = [
        getattr(event, "credit_note_id", None)
        for event in invoice.history
        if type(event).TOPIC in ("fastfaktura:Invoice.Credited", "fastfaktura:Invoice.Cancelled")
    ]
    model = read_model("credit_notes")
    rows: list[tuple[str, Row]] = []
    for note_id in named:
        # Issued in the invoice's transaction, so it exists whenever its `credited` does.
        note = None if note_id is None else _as_of(ctx, note_id, as_of)
        if note is not None:
            rows += [("rm_credit_notes", row) for row in model.rows(note)["rm_credit_notes"]]
    return rows


def _rows_as_of(ctx: Context, as_of: datetime, business: UUID | None) -> list[tuple[str, Row]]:
    """Every read model's rows, (table, row), as the events alone had them at `as_of`."""
    found: list[tuple[str, Row]] = []
    for model in READ_MODELS:
        for state in audit.replay_states(ctx.events, model, as_of=as_of).values():
            for table, rows in model.rows(state).items():
                found += [
                    (table, row)
                    for row in rows
                    if business is None or row.get("business_id") == business
                ]
    return found
