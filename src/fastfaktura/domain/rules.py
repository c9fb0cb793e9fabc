"""Value rules shared by the aggregates and the API's input checks (pure functions)."""

from __future__ import annotations

import re
from typing import Final

LOCALES: Final = ("fr", "en", "nb", "sv")
CURRENCIES: Final = ("EUR", "USD", "GBP", "NOK", "SEK", "DKK")
BUSINESS_MODES: Final = ("sandbox", "live")

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRY_CODES: Final = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """.split()
)

# A pragmatic address check: one @, a non-empty local part, a dotted domain, no spaces.
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{0,10}$")


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def is_e164(value: str) -> bool:
    """`+` then 2 to 15 digits, the first not 0 (ITU-T E.164)."""
    return _E164.fullmatch(value) is not None


def is_country(value: str) -> bool:
    return value in COUNTRY_CODES


def is_invoice_prefix(value: str) -> bool:
    return _PREFIX.fullmatch(value) is not None
