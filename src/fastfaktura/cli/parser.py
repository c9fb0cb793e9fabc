"""The command-line tree: every command and option, with the help `--help` prints."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastfaktura.cli.accounts import (
    cmd_accounts_create,
    cmd_keys_create,
    cmd_keys_list,
    cmd_keys_revoke,
)
from fastfaktura.cli.arguments import positive_int
from fastfaktura.cli.audit import cmd_audit_replay
from fastfaktura.cli.db import cmd_db_migrate, cmd_db_url
from fastfaktura.cli.export import cmd_audit_export, year_arg
from fastfaktura.cli.overdue import cmd_overdue_sweep
from fastfaktura.cli.payments import (
    INBOX_STATUSES,
    REFUND_STATUSES,
    cmd_payments_inbox,
    cmd_payments_refunds,
    cmd_payments_resolve,
    cmd_payments_retry,
)
from fastfaktura.cli.projections import (
    cmd_projections_rebuild,
    cmd_projections_run,
    cmd_projections_status,
)
from fastfaktura.cli.serve import cmd_serve
from fastfaktura.cli.users import cmd_users_create, cmd_users_link
from fastfaktura.cli.verify import cmd_audit_verify
from fastfaktura.readmodels.models import READ_MODELS

BUSINESS_HELP = "the business's id (a UUID) or its exact name"

if TYPE_CHECKING:  # argparse names no public type for it, and it is generic in typeshed only
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _command(commands: Commands, name: str, help: str) -> argparse.ArgumentParser:
    """A command whose `--help` starts with the line the list of commands shows for it."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
    return parser


def _group(commands: Commands, name: str, help: str) -> Commands:
    """A command made of subcommands (`keys create`, `keys list`, ...)."""
    sub: Commands = _command(commands, name, help).add_subparsers(
        dest="sub", required=True, title="commands", metavar="COMMAND"
    )
    return sub


def _json_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="fastfaktura",
        description="FastFaktura invoicing service. Settings come from the environment\n"
        "(docs/operations.md); without DATABASE_URL an embedded PostgreSQL runs in\n"
        "$FASTFAKTURA_HOME.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the epilog's columns
    )
    commands = root.add_subparsers(
        dest="command", required=True, title="commands", metavar="COMMAND"
    )
    _serve(commands)
    _accounts(commands)
    _keys(commands)
    _users(commands)
    _db(commands)
    _projections(commands)
    _overdue(commands)
    _audit(commands)
    _payments(commands)
    listed = dict(leaf_commands(root))
    width = max(map(len, listed)) + 2
    root.epilog = "every command (`fastfaktura COMMAND [SUBCOMMAND] --help` for its options):\n" + (
        "\n".join(f"  {name:<{width}}{command.description}" for name, command in listed.items())
    )
    return root


def leaf_commands(
    parser: argparse.ArgumentParser, path: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command that runs something, by its full name (`keys create`), in tree order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{path} {name}".strip()
                if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                    yield from leaf_commands(sub, full)
                else:
                    yield full, sub


def _serve(commands: Commands) -> None:
    serve = _command(
        commands, "serve", "migrate, run the projections and policies, and serve the API"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--demo", action="store_true", help="create (first run) and print the sandbox demo account"
    )
    serve.add_argument(
        "--no-projections",
        action="store_true",
        help="serve the API only: another process (`projections run`) runs the projections "
        "and policies",
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="API processes (default: FASTFAKTURA_WORKERS, else one per core as far as the "
        "connection budget allows); 1: API, projections and policies in this one process",
    )
    serve.add_argument(
        "--shared-port",
        action="store_true",
        help="(set by `serve` for each API process it starts) listen on --port next to the "
        "other API processes (SO_REUSEPORT): API only, no supervisor",
    )
    serve.set_defaults(run=cmd_serve)


def _accounts(commands: Commands) -> None:
    accounts = _group(commands, "accounts", "businesses (accounts) using the API")
    create = _command(accounts, "create", "record a business and its first API key, printed once")
    create.add_argument("--name", required=True, help="the business's display name")
    create.add_argument(
        "--live", action="store_true", help="a live business (default: sandbox, for testing)"
    )
    _json_option(create, "business_id, api_key and key_prefix")
    create.set_defaults(run=cmd_accounts_create)


def _keys(commands: Commands) -> None:
    keys = _group(commands, "keys", "a business's API keys")
    create = _command(keys, "create", "issue another API key for a business, printed once")
    create.add_argument("--business", required=True, help=BUSINESS_HELP)
    _json_option(create, "business_id, api_key and key_prefix")
    create.set_defaults(run=cmd_keys_create)
    listing = _command(keys, "list", "list a business's keys: prefix, mode, issued, revoked")
    listing.add_argument("--business", required=True, help=BUSINESS_HELP)
    listing.set_defaults(run=cmd_keys_list)
    revoke = _command(keys, "revoke", "revoke a key at once (revoking it again changes nothing)")
    revoke.add_argument(
        "key_prefix", help="the key's 16-character prefix (ffk_test_... or ffk_live_...)"
    )
    revoke.set_defaults(run=cmd_keys_revoke)


def _users(commands: Commands) -> None:
    users = _group(commands, "users", "the people who sign in to a business's account settings")
    create = _command(
        users, "create", "add an owner to a business; prints a one-time link to set a password"
    )
    create.add_argument("--business", required=True, help=BUSINESS_HELP)
    create.add_argument("--email", required=True, help="the owner's email (signs in with it)")
    create.set_defaults(run=cmd_users_create)
    link = _command(
        users, "link", "a new one-time link to set a user's password (the old one dies)"
    )
    link.add_argument("--email", required=True, help="the user's email")
    link.set_defaults(run=cmd_users_link)


def _db(commands: Commands) -> None:
    db = _group(commands, "db", "the PostgreSQL database")
    _command(db, "migrate", "apply the pending migrations and name them").set_defaults(
        run=cmd_db_migrate
    )
    _command(
        db, "url", "print the database URL (an embedded server is left running for psql)"
    ).set_defaults(run=cmd_db_url)


def _projections(commands: Commands) -> None:
    projections = _group(commands, "projections", "the read models, kept from the events")
    status = _command(projections, "status", "each read model's position, the head and the lag")
    _json_option(status, "the list")
    status.set_defaults(run=cmd_projections_status)
    known = ", ".join(model.name for model in READ_MODELS)
    for name, help, run in (
        (
            "run",
            "run the projections and policies (deliveries, payments, overdue) until stopped",
            cmd_projections_run,
        ),
        (
            "rebuild",
            "rebuild read models from the events into fresh tables, swapped in atomically",
            cmd_projections_rebuild,
        ),
    ):
        sub = _command(projections, name, help)
        sub.add_argument(
            "names", nargs="*", metavar="NAME", help=f"read models (default: all): {known}"
        )
        sub.add_argument("--all", action="store_true", help="every read model (the default)")
        sub.set_defaults(run=run)


def _overdue(commands: Commands) -> None:
    overdue = _group(commands, "overdue", "invoices past their due date")
    sweep = _command(overdue, "sweep", "record `overdue` for every invoice past due")
    sweep.add_argument("--today", help="the day to judge by, YYYY-MM-DD (default: today, UTC)")
    sweep.set_defaults(run=cmd_overdue_sweep)


def _audit(commands: Commands) -> None:
    audit = _group(
        commands, "audit", "check the read models against the events, and the events' hash chains"
    )
    replay = _command(
        audit, "replay", "rebuild aggregates from events, compare with read models (exit 1: differ)"
    )
    replay.add_argument("--business", help="only this business: " + BUSINESS_HELP)
    replay.add_argument(
        "--invoice",
        help="print this invoice as it stood at --as-of (default: now), with the credit notes"
        " issued against it by then",
    )
    replay.add_argument(
        "--as-of", dest="as_of", help="print the states as they stood then (RFC 3339)"
    )
    _json_option(replay, "the result")
    replay.set_defaults(run=cmd_audit_replay)
    _audit_verify(audit)
    _audit_export(audit)


def _audit_verify(audit: Commands) -> None:
    verify = _command(
        audit,
        "verify",
        "recompute each business's hash chain over its events (exit 1 naming the first event"
        " that does not match)",
    )
    verify.add_argument("--business", help="only this business's chain: " + BUSINESS_HELP)
    verify.add_argument(
        "--anchor",
        action="store_true",
        help="once verified, print the chain heads to stdout, one line per business (id, event"
        " count, head hash, UTC time) for you to keep or publish (docs/audit.md)",
    )
    verify.add_argument(
        "--anchors",
        metavar="FILE",
        action="append",
        help="a file --anchor printed earlier: prove every chain still passes through its"
        " anchored head (nothing up to it changed); may be given several times",
    )
    verify.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="check the businesses' chains in N processes, all reading one snapshot"
        " (default: one per core)",
    )
    verify.set_defaults(run=cmd_audit_verify)


def _audit_export(audit: Commands) -> None:
    export = _command(
        audit,
        "export",
        "a business's journal of a year, from its events alone, as the French FEC (docs/audit.md)",
    )
    export.add_argument("--business", required=True, help=BUSINESS_HELP)
    export.add_argument(
        "--year",
        required=True,
        type=year_arg,
        help="the calendar year (YYYY) whose entries to export (its fiscal year closes on 31"
        " December)",
    )
    export.add_argument(
        "--format",
        choices=["fec"],
        default="fec",
        help="the file's layout: fec, the fichier des écritures comptables (default: %(default)s)",
    )
    export.add_argument(
        "--output",
        metavar="FILE",
        help="write the file here instead of to stdout; a directory: the file is named by law"
        " there, {SIREN}FEC{YYYY1231}.txt",
    )
    export.set_defaults(run=cmd_audit_export)


def _payments(commands: Commands) -> None:
    payments = _group(
        commands, "payments", "the Stripe webhook inbox and card refunds (docs/payments.md)"
    )
    inbox = _command(
        payments,
        "inbox",
        "list Stripe webhook events, newest first; exit 1 when some need attention",
    )
    inbox.add_argument(
        "--status",
        choices=[*INBOX_STATUSES, "all"],
        default="needs_attention",
        help="only events with this status (default: %(default)s)",
    )
    inbox.add_argument(
        "--limit", type=positive_int, default=50, help="at most this many (default: %(default)s)"
    )
    _json_option(inbox, "an array of inbox rows")
    inbox.set_defaults(run=cmd_payments_inbox)
    retry = _command(
        payments, "retry", "send a needs_attention or ignored event back to the payments worker"
    )
    retry.add_argument("event_id", help="the Stripe event id (evt_...)")
    retry.set_defaults(run=cmd_payments_retry)
    resolve = _command(
        payments,
        "resolve",
        "close a needs_attention event handled by hand (a refund, say), with a note",
    )
    resolve.add_argument("event_id", help="the Stripe event id (evt_...)")
    resolve.add_argument("--note", required=True, help="what was done, for the record")
    resolve.set_defaults(run=cmd_payments_resolve)
    refunds = _command(
        payments,
        "refunds",
        "list the card refunds of credit notes, newest first; exit 1 when some need attention",
    )
    refunds.add_argument(
        "--status",
        choices=[*REFUND_STATUSES, "all"],
        default="needs_attention",
        help="only refunds with this status (default: %(default)s)",
    )
    refunds.add_argument(
        "--limit", type=positive_int, default=50, help="at most this many (default: %(default)s)"
    )
    _json_option(refunds, "an array of card refund rows")
    refunds.set_defaults(run=cmd_payments_refunds)
