"""An invoice's payment reference (API.md "Payment references", EN 16931 BT-83), pure.

Derived from the invoice's place in its numbering series: its year and its sequence in that
year's series (domain/series.py), which are unique within the business, known when the invoice
is created, and never change (a new invoice prefix does not change them). The body is the year
and the sequence as digits, `{YYYY}{NNNNN}` (more digits past 99,999, so no two invoices share
one). The seller's country, frozen into the invoice at creation, picks the format:

- Norway: a KID, the body then its MOD10 (Luhn) check digit;
- Sweden: an OCR number, the body, a length digit (the total length modulo 10) and a Luhn check
  digit over both;
- anywhere else: an ISO 11649 structured creditor reference, `RF`, two check digits, the body.

Invoices created before references existed get theirs from their number on read, by the same
rule (`reference_for_number`), so replays, rebuilds and the audit all agree.
"""

from __future__ import annotations

from stdnum import luhn
from stdnum.iso7064 import mod_97_10


def reference_body(year: int, sequence: int) -> str:
    return f"{year:04d}{sequence:05d}"


def kid(body: str) -> str:
    """Norwegian KID (MOD10): the digits, then their Luhn check digit."""
    return body + luhn.calc_check_digit(body)


def ocr(body: str) -> str:
    """Swedish OCR with length digit: the digits, the total length's last digit, then the
    Luhn check digit of all that precedes it."""
    with_length = body + str((len(body) + 2) % 10)
    return with_length + luhn.calc_check_digit(with_length)


def creditor_reference(body: str) -> str:
    """ISO 11649: `RF` + 2 check digits (MOD 97-10 over the body followed by `RF`) + body."""
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def payment_reference(year: int, sequence: int, seller_country: str | None) -> str:
    body = reference_body(year, sequence)
    country = (seller_country or "").upper()
    if country == "NO":
        return kid(body)
    if country == "SE":
        return ocr(body)
    return creditor_reference(body)


def reference_for_number(number: str, seller_country: str | None) -> str:
    """The reference of an invoice numbered `{prefix}{YYYY}-{NNNNN}` (series.format_number)."""
    head, _, sequence = number.rpartition("-")
    return payment_reference(int(head[-4:]), int(sequence), seller_country)
