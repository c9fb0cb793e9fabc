"""`fastfaktura audit verify`: check every business's hash chain, print or check anchors
(docs/audit.md)."""

from __future__ import annotations

import argparse
from datetime import UTC
from pathlib import Path
from uuid import UUID

from fastfaktura.adapters.chain_verify import verify
from fastfaktura.adapters.event_chain import ANCHORS_HEADER, Anchor, AnchorFileError, parse_anchors
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import err, out, progress
from fastfaktura.config import Settings


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    if args.processes is not None and args.processes < 1:
        raise SystemExit(f"--processes must be 1 or more, not {args.processes}.")
    anchors: dict[UUID, list[Anchor]] = {}
    for path in args.anchors or ():
        try:
            for key, found in parse_anchors(Path(path).read_text()).items():
                anchors.setdefault(key, []).extend(found)
        except (OSError, UnicodeDecodeError, AnchorFileError) as exc:
            raise SystemExit(f"--anchors {path}: {exc}") from None
    ctx = Context(settings)
    ctx.migrate()
    try:
        business = ctx.business(args.business) if args.business else None
        with progress() as bars:
            task = bars.add_task("verify the event chains", total=None)

            def advance(done: int, total: int) -> None:
                bars.update(task, completed=done, total=max(total, done))

            result = verify(
                ctx.direct_url,
                business_id=business,
                anchors=anchors,
                progress=advance,
                processes=args.processes,
            )
    finally:
        ctx.close()
    # With --anchor, stdout is the anchor file only; everything else goes to stderr.
    report = err if args.anchor else out
    documents = result.documents
    for broken in [*result.breaks, *documents.breaks]:
        report.print(f"[red]BROKEN[/red] {broken}", soft_wrap=True, highlight=False)
    if not result.ok:
        report.print(
            f"{len(result.breaks)} broken chain(s), {len(documents.breaks)} changed or missing"
            f" document(s); {result.events} events read."
            + (" No anchors printed." if args.anchor else ""),
            soft_wrap=True,
        )
        return 1
    businesses = len(result.heads)
    checked = sum(len(a) for a in anchors.values())
    report.print(
        f"Every chain is valid: {result.events} events of {businesses} business(es)"
        + (f", {checked} anchor(s) checked" if checked else "")
        + f"; {documents.checked} issued document(s) match the SHA-256 their events record"
        + (
            f" ({documents.unrecorded} stored with no recorded hash: issued before hashes"
            " were recorded)"
            if documents.unrecorded
            else ""
        )
        + f", as of {result.taken_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}.",
        highlight=False,
        soft_wrap=True,
    )
    if args.anchor:
        print(ANCHORS_HEADER)
        for head in result.heads:
            print(head.line())
    return 0
