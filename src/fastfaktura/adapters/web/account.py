"""The account pages (/signup, /login, /account, ...), pure: view data in, HTML out (no I/O).

The same Jinja environment as the public page (autoescaping always on, StrictUndefined), its
own templates under templates/account/ and words in account_labels.py. Dates are formatted by
Babel in the reader's language: `?lang=` (remembered in a cookie), else Accept-Language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from babel.dates import format_datetime

from fastfaktura.adapters.web.account_labels import ACCOUNT_LABELS, LANGUAGE_NAMES
from fastfaktura.adapters.web.account_webhook_labels import WEBHOOK_LABELS
from fastfaktura.adapters.web.labels import LOCALES
from fastfaktura.adapters.web.page import environment, preferred_locale

LANGUAGE_COOKIE: Final = "ff_lang"
LANGUAGES: Final = tuple((code, LANGUAGE_NAMES[code]) for code in LOCALES)
_LABELS: Final = {code: {**words, **WEBHOOK_LABELS[code]} for code, words in ACCOUNT_LABELS.items()}
# What every account page carries: never cached (it holds a form token, or a key shown once),
# never framed, no script at all, forms only to this site.
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}


def page_locale(asked: str | None, remembered: str | None, accept_language: str | None) -> str:
    """`?lang=` if it is one of ours, else the remembered choice, else Accept-Language."""
    for choice in (asked, remembered):
        if choice in LOCALES:
            return str(choice)
    return preferred_locale(accept_language)


def labels(locale: str) -> dict[str, str]:
    return _LABELS[locale]


def when(value: datetime | None, locale: str) -> str | None:
    if value is None:
        return None
    return format_datetime(value, format="medium", tzinfo=None, locale=locale) + " UTC"


def key_views(rows: list[Mapping[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [
        {
            "key_prefix": row["key_prefix"],
            "name": row["name"],
            "created": when(row["created_at"], locale),
            "last_used": when(row["last_used_at"], locale),
            "revoked": when(row["revoked_at"], locale),
        }
        for row in rows
    ]


def outbox_views(rows: list[Mapping[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [
        {
            "at": when(row["created_at"], locale),
            "channel": row["channel"],
            "to": row["to"],
            "subject": row["subject"],
            "body": row["body"][:120],
            "url": row["url"],
        }
        for row in rows
    ]


def webhook_views(rows: Sequence[Mapping[str, Any]], locale: str) -> list[dict[str, Any]]:
    """The business's webhook endpoints as the account page lists them."""
    t = labels(locale)
    return [
        {
            "id": str(row["id"]),
            "url": row["url"],
            "events": t["webhook_all_events"] if "*" in row["events"] else ", ".join(row["events"]),
            "description": row["description"],
            "status": t["webhook_disabled"] if row["disabled_at"] else t["webhook_enabled"],
            "disabled_reason": row["disabled_reason"],
            "created": when(row["created_at"], locale),
        }
        for row in rows
    ]


def render_account(
    template: str, locale: str, *, csrf: str, signed_in: bool, **context: Any
) -> str:
    """templates/account/<template>.html in `locale`, with the form token `csrf`."""
    return (
        environment()
        .get_template(f"account/{template}.html")
        .render(
            lang=locale,
            t=labels(locale),
            languages=LANGUAGES,
            csrf=csrf,
            signed_in=signed_in,
            **context,
        )
    )
