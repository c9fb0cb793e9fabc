"""The French FEC (fichier des écritures comptables, art. A47 A-1 du livre des procédures
fiscales) of a year's journal entries (domain/ledger.py): UTF-8 text, one header row, then one
row per entry line, fields separated by tabs, lines ended by LF, dates as YYYYMMDD, amounts
with a comma as decimal separator and no thousands separator. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from fastfaktura.domain.ledger import Numbered

COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
# The accounting currency: the FEC's amounts are in euros.
ACCOUNTING_CURRENCY = "EUR"
_SEPARATORS = re.compile(r"[\t\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


class ForeignCurrency(Exception):
    """Entries in another currency than the euro: FastFaktura records no exchange rate, so
    their amounts in euros are unknown."""

    def __init__(self, pieces: Sequence[str]) -> None:
        self.pieces = list(pieces)
        super().__init__(", ".join(self.pieces))


def fec_text(entries: Sequence[Numbered]) -> str:
    """The file's whole text: the header row, then every line of every entry in order."""
    foreign = sorted(
        {n.entry.piece_ref for n in entries if n.entry.currency != ACCOUNTING_CURRENCY}
    )
    if foreign:
        raise ForeignCurrency(foreign)
    rows = ["\t".join(COLUMNS)]
    for numbered in entries:
        entry = numbered.entry
        for line in entry.lines:
            client_id, client_name = line.client or ("", "")
            fields = (
                entry.journal.code,
                entry.journal.label,
                numbered.number,
                fec_date(entry.day),
                line.account.number,
                line.account.label,
                client_id,
                client_name,
                entry.piece_ref,
                fec_date(entry.piece_day),
                line.label,
                fec_amount(line.debit_cents),
                fec_amount(line.credit_cents),
                "",  # EcritureLet, DateLet: no lettering
                "",
                fec_date(entry.valid_day),
                "",  # Montantdevise, Idevise: only for amounts in another currency
                "",
            )
            rows.append("\t".join(_field(value) for value in fields))
    return "\n".join(rows) + "\n"


def fec_date(day: date) -> str:
    return f"{day:%Y%m%d}"


def fec_amount(cents: int) -> str:
    """12345 -> "123,45"; 0 -> "0,00"."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole},{rest:02d}"


def _field(value: str) -> str:
    """User text (names, references) never breaks a row: tabs and line breaks become spaces."""
    return _SEPARATORS.sub(" ", value).strip()


def siren(company_id: str | None) -> str | None:
    """The SIREN in a company id (a SIREN, or a SIRET whose first 9 digits it is), else None."""
    digits = re.sub(r"[\s.-]", "", company_id or "")
    if re.fullmatch(r"\d{9}", digits) or re.fullmatch(r"\d{14}", digits):
        return digits[:9]
    return None


def file_name(siren_number: str, closing: date) -> str:
    """The name the law gives the file: {SIREN}FEC{closing date YYYYMMDD}.txt."""
    return f"{siren_number}FEC{fec_date(closing)}.txt"
