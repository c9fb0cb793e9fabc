"""The checked fields of the business and client bodies (API.md: Business, Clients)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastfaktura.api.input import Field
from fastfaktura.domain.errors import FieldError
from fastfaktura.domain.invoice_terms import OPERATION_CATEGORIES
from fastfaktura.domain.rules import (
    CURRENCIES,
    LOCALES,
    is_country,
    is_e164,
    is_email,
    is_invoice_prefix,
)
from fastfaktura.domain.vat_categories import CATEGORIES, WITH_REASON, category_rate_conflict


def _email(value: Any) -> str | None:
    return None if is_email(value) else "must be a valid email address"


def _phone(value: Any) -> str | None:
    return (
        None
        if is_e164(value)
        else "must be an E.164 number: + then 2 to 15 digits, e.g. +4791234567"
    )


COUNTRY_MESSAGE = 'must be a two-letter ISO 3166-1 country code, such as "FR"'


def _country(value: Any) -> str | None:
    return None if is_country(value) else COUNTRY_MESSAGE


def _prefix(value: Any) -> str | None:
    return None if is_invoice_prefix(value) else "must be at most 10 letters, digits, '-' or '_'"


def _iban(value: Any) -> str | None:
    compact = value.replace(" ", "").upper()
    if not (
        compact.isascii()
        and 15 <= len(compact) <= 34
        and compact[:2].isalpha()
        and compact[2:4].isdigit()
        and compact.isalnum()
    ):
        return "must be a valid IBAN"
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return None if int(digits) % 97 == 1 else "must be a valid IBAN (check digits do not match)"


def _bic(value: Any) -> str | None:
    ok = value.isascii() and len(value) in (8, 11) and value[:6].isalpha() and value[6:].isalnum()
    return None if ok else "must be a valid BIC (8 or 11 characters)"


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _not_in_the_future(value: Any) -> str | None:
    # A few minutes of clock skew between the caller and us are tolerated.
    late = datetime.now(UTC) + timedelta(minutes=5)
    return None if value <= late else "may not be in the future"


def _upper(value: str) -> str:
    return value.upper()


def _compact_upper(value: str) -> str:
    return value.replace(" ", "").upper()


NAME = Field("name", "text", nullable=False, max_length=200)
EMAIL = Field("email", "text", max_length=254, rule=_email)
PHONE = Field("phone", "text", max_length=16, rule=_phone)
ADDRESS = Field("address", "text", max_length=1000)
COUNTRY = Field(
    "country", "text", max_length=2, normalize=_upper, rule=_country, too_long=COUNTRY_MESSAGE
)
LOCALE = Field("locale", "enum", nullable=False, choices=LOCALES)
VAT_NUMBER = Field("vat_number", "text", max_length=30, normalize=_compact_upper)
COMPANY_ID = Field("company_id", "text", max_length=50)

CLIENT_FIELDS: Final = (
    NAME,
    EMAIL,
    PHONE,
    ADDRESS,
    COUNTRY,
    LOCALE,
    Field("external_id", "text", max_length=255),
    Field("tags", "tags", nullable=False),
    VAT_NUMBER,
    COMPANY_ID,
)
CLIENT_READ_ONLY: Final = ("id", "archived_at", "created_at", "updated_at")
# Creating a client needs a name; an update (a merge) may leave it out.
CLIENT_CREATE_FIELDS: Final = tuple(
    replace(field, required=True) if field.name == "name" else field for field in CLIENT_FIELDS
)

BUSINESS_FIELDS: Final = (
    NAME,
    Field("legal_name", "text", max_length=200),
    EMAIL,
    PHONE,
    ADDRESS,
    COUNTRY,
    VAT_NUMBER,
    COMPANY_ID,
    Field("iban", "text", max_length=42, normalize=_compact_upper, rule=_iban),
    Field("bic", "text", max_length=11, normalize=_compact_upper, rule=_bic),
    Field("currency", "enum", nullable=False, choices=CURRENCIES),
    LOCALE,
    Field("payment_terms_days", "int", nullable=False, minimum=0, maximum=365),
    Field("invoice_prefix", "text", nullable=False, max_length=10, rule=_prefix),
    Field("vat_exempt_293b", "bool", nullable=False),
    Field("late_payment_rate", "decimal", places=2, minimum=0, maximum=100),
    Field("f_skatt", "bool", nullable=False),
    # Credit notes' own series (API.md "Credit notes"): the same rule as the invoice prefix.
    Field("credit_note_prefix", "text", nullable=False, max_length=10, rule=_prefix),
    # E-invoicing (API.md "E-invoices and legal checks").
    Field("vat_on_debits", "bool", nullable=False),
    Field("operation_category", "enum", nullable=False, choices=OPERATION_CATEGORIES),
)
BUSINESS_READ_ONLY: Final = ("id", "mode", "created_at", "updated_at")


# -- invoices -----------------------------------------------------------------------------------

INVOICE_FIELDS: Final = (
    Field("client_id", "uuid", required=True, nullable=False),
    Field("currency", "enum", required=True, nullable=False, choices=CURRENCIES),
    Field("due_date", "date"),
    Field("notes", "text", max_length=5000),
    # E-invoicing terms (domain/invoice_terms.py): null takes the default again.
    Field("operation_category", "enum", choices=OPERATION_CATEGORIES),
    Field("delivery_address", "text", max_length=1000),
    Field("tax_exchange_rate", "decimal", places=6, maximum=1_000_000_000, rule=_positive),
)
# An edit merges: every field may be left out (client and currency still never null).
INVOICE_EDIT_FIELDS: Final = tuple(replace(field, required=False) for field in INVOICE_FIELDS)
LINE_FIELDS: Final = (
    Field("description", "text", required=True, nullable=False, max_length=1000),
    # Bounds keep every product far inside exact integer cents (and a bigint).
    Field(
        "quantity",
        "decimal",
        required=True,
        nullable=False,
        places=4,
        maximum=1_000_000_000,
        rule=_positive,
    ),
    Field(
        "unit_price_cents", "int", required=True, nullable=False, minimum=-(10**12), maximum=10**12
    ),
    Field("tax_rate", "decimal", required=True, nullable=False, places=2, minimum=0, maximum=100),
)
# An invoice's line may state its VAT category (domain/vat_categories.py decides otherwise).
INVOICE_LINE_FIELDS: Final = (
    *LINE_FIELDS,
    Field("vat_category", "enum", choices=CATEGORIES),
    Field("vat_exemption_reason", "text", max_length=300),
)


def line_category_errors(line: dict[str, Any], prefix: str) -> list[FieldError]:
    """A stated category fits the line's rate; a reason goes with E, AE or G only."""
    category = line.get("vat_category")
    errors = []
    if category is not None:
        conflict = category_rate_conflict(category, line["tax_rate"])
        if conflict:
            errors.append(FieldError(f"{prefix}vat_category", conflict))
    if line.get("vat_exemption_reason") is not None and category not in WITH_REASON:
        errors.append(
            FieldError(
                f"{prefix}vat_exemption_reason", "goes only with a vat_category of E, AE or G"
            )
        )
    return errors


PAYMENT_METHODS: Final = ("bank_transfer", "card", "cash", "other")
PAYMENT_FIELDS: Final = (
    Field("amount_cents", "int", required=True, nullable=False, minimum=1, maximum=10**15),
    Field("method", "enum", required=True, nullable=False, choices=PAYMENT_METHODS),
    Field("paid_at", "datetime", rule=_not_in_the_future),
    Field("reference", "text", max_length=200),
)
CANCEL_FIELDS: Final = (Field("reason", "text", max_length=1000),)

SEND_FIELDS: Final = (Field("reminder", "bool", nullable=False),)

# -- credit notes (API.md "Credit notes"); their lines are LINE_FIELDS ---------------------------

CREDIT_NOTE_FIELDS: Final = (
    Field("reason", "text", required=True, nullable=False, max_length=1000),
)
REFUND_FIELDS: Final = (
    Field("amount_cents", "int", required=True, nullable=False, minimum=1, maximum=10**15),
    Field("method", "enum", required=True, nullable=False, choices=PAYMENT_METHODS),
    Field("reference", "text", max_length=200),
)
