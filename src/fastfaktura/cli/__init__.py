"""The `fastfaktura` command (docs/operations.md): one module per command group, the argparse
tree in `parser`, what a command works with in `context`, how it prints in `output`."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from fastfaktura import logs
from fastfaktura.cli.context import Context
from fastfaktura.cli.parser import parser
from fastfaktura.config import Settings

__all__ = ["Context", "main", "parser"]


def _role(args: argparse.Namespace) -> str:
    """What this process is, for pg_stat_activity: api, serve, projections or the command."""
    if args.command == "serve":
        return "api" if args.no_projections else "serve"
    if args.command == "projections" and args.sub == "run":
        return "projections"
    return " ".join(filter(None, (args.command, getattr(args, "sub", None))))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    Context.application_name = f"fastfaktura {_role(args)} {os.getpid()}"
    logs.configure(json=settings.log_json)
    # pgserver keeps its inter-process lock in the runtime dir; give it a private one.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(settings.home).resolve() / "run"))
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    result: int = args.run(args, settings)
    return result
