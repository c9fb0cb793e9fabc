"""`fastfaktura db`: migrate the database, print its URL."""

from __future__ import annotations

import argparse

from fastfaktura.adapters.database import migrate, resolve_database_url, with_application_name
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import out
from fastfaktura.config import Settings


def cmd_db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.pools.direct_url or resolve_database_url(settings.database_url, settings.home)
    applied = migrate(with_application_name(url, Context.application_name))
    out.print(
        f"{len(applied)} migration(s) applied" + (": " + ", ".join(applied) if applied else "")
    )
    return 0


def cmd_db_url(args: argparse.Namespace, settings: Settings) -> int:
    # Keep an embedded server running after this process exits, so `psql "$(...)"` works.
    print(resolve_database_url(settings.database_url, settings.home, keep_running=True))
    return 0
