"""`fastfaktura users`: the people who sign in to a business's account settings (/account)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from fastfaktura.application import PasswordLink
from fastfaktura.cli.context import Context
from fastfaktura.cli.output import err
from fastfaktura.config import Settings
from fastfaktura.domain.errors import EmailTaken, NotFoundError
from fastfaktura.domain.user import email_problem
from fastfaktura.readmodels.models import read_model


def password_link_url(settings: Settings, link: PasswordLink) -> str:
    return f"{settings.base_url()}/account/password?token={link.token}"


def _link_valid(settings: Settings) -> timedelta:
    return timedelta(hours=settings.accounts.password_link_hours)


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    problem = email_problem(args.email)
    if problem is not None:
        err.print(f"--email {problem}.")
        return 2
    ctx = Context(settings)
    ctx.migrate()
    try:
        business = ctx.business(args.business)
        link = ctx.app.add_owner(business, args.email, _link_valid(settings)).value
        ctx.catch_up([read_model("users")])
    except NotFoundError:
        err.print(f"No business {args.business}.")
        return 1
    except EmailTaken:
        err.print(f"{args.email} already signs in to an account (`users link` sends a new link).")
        return 1
    finally:
        ctx.close()
    _print_link(settings, link)
    return 0


def cmd_users_link(args: argparse.Namespace, settings: Settings) -> int:
    ctx = Context(settings)
    ctx.migrate()
    try:
        link = ctx.app.issue_password_link(args.email, _link_valid(settings)).value
    except NotFoundError:
        err.print(f"No user {args.email}.")
        return 1
    finally:
        ctx.close()
    _print_link(settings, link)
    return 0


def _print_link(settings: Settings, link: PasswordLink) -> None:
    # Plain prints, never wrapped: the link is copied as one line.
    print(f"user:    {link.user.email} (owner of business {link.user.business_id})")
    print(f"link:    {password_link_url(settings, link)}")
    print(
        f"         one use, until {link.expires_at:%Y-%m-%d %H:%M} UTC: it sets the password "
        "and signs in"
    )
