"""The VAT category of each invoice line (EN 16931 BT-151, UNTDID 5305), decided from the facts.

Pure. The invoice's frozen seller and buyer decide (API.md "E-invoices and legal checks"):

- `S` (standard) for a rate above 0;
- at 0 %, in this order: `AE` (reverse charge) for a business client (B2B) with a VAT number
  in another EU country than an EU seller's (the client accounts for the VAT, whatever the
  seller's own regime); `E` (exempt) for a seller under an exemption (France, art. 293 B du
  CGI: VATEX-FR-FRANCHISE), which charges VAT on nothing else; `G` (export) for a client
  outside the EU in another country than the seller's, or any client abroad of a seller
  outside the EU (Norway); else `Z` (zero rated).

A client without a country is taken to be in the seller's country (BT-55). A line may state its
own category (and exemption reason): the business knows better than these defaults. The tax
breakdown (BG-23) then groups lines by category and rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

CATEGORIES: Final = ("S", "Z", "E", "AE", "G")
# The categories that carry an exemption reason (BR-E-10, BR-AE-10, BR-G-10).
WITH_REASON: Final = frozenset({"E", "AE", "G"})
EU_COUNTRIES: Final = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
FRANCHISE_CODE: Final = "VATEX-FR-FRANCHISE"
FRANCHISE_REASON: Final = "TVA non applicable, art. 293 B du CGI"
# EN 16931 VATEX codes and their reasons (the codes list's own wording, in English).
DEFAULT_REASONS: Final = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
}


def is_business_client(buyer: Mapping[str, Any]) -> bool:
    """A client is a business (B2B) when it has a VAT number or a company id."""
    return bool(buyer.get("vat_number") or buyer.get("company_id"))


def _country(party: Mapping[str, Any], fallback: str | None = None) -> str | None:
    value = party.get("country") or fallback
    return str(value).upper() if value else None


def default_category(rate: Decimal, seller: Mapping[str, Any], buyer: Mapping[str, Any]) -> str:
    """The category the facts give a line at `rate` (see the module docstring)."""
    if rate > 0:
        return "S"
    seller_country = _country(seller)
    buyer_country = _country(buyer, seller_country)
    abroad = buyer_country is not None and buyer_country != seller_country
    if (
        abroad
        and buyer.get("vat_number")
        and seller_country in EU_COUNTRIES
        and buyer_country in EU_COUNTRIES
    ):
        return "AE"
    if seller.get("vat_exempt_293b"):
        return "E"
    # An export: to a client outside the EU, or from a seller outside it (Norway) abroad.
    outside_eu = buyer_country not in EU_COUNTRIES or (
        seller_country is not None and seller_country not in EU_COUNTRIES
    )
    if abroad and outside_eu:
        return "G"
    return "Z"


def exemption(
    category: str, seller: Mapping[str, Any], stated_reason: str | None = None
) -> tuple[str | None, str | None]:
    """(BT-121 code, BT-120 reason) of a category: none for S and Z."""
    if category not in WITH_REASON:
        return None, None
    if stated_reason:
        code = DEFAULT_REASONS[category][0] if category in DEFAULT_REASONS else None
        return code, stated_reason
    if category == "E":
        if seller.get("vat_exempt_293b"):
            return FRANCHISE_CODE, FRANCHISE_REASON
        return None, "Exempt from VAT"
    return DEFAULT_REASONS[category]


def categorized(
    lines: list[dict[str, Any]],
    breakdown: list[dict[str, Any]],
    seller: Mapping[str, Any],
    buyer: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The lines with their category and exemption, and the breakdown grouped by category and
    rate. Lines that already carry a category keep it (an event that recorded them); older
    events' lines get the one their frozen parties give, so replays agree."""
    if (
        lines
        and all("vat_category" in line for line in lines)
        and all("vat_category" in item for item in breakdown)
    ):
        return lines, breakdown
    out_lines = []
    for line in lines:
        stated = line.get("stated_vat_category")
        category = stated or default_category(Decimal(str(line["tax_rate"])), seller, buyer)
        code, reason = exemption(category, seller, line.get("stated_vat_exemption_reason"))
        out_lines.append(
            {
                **line,
                "vat_category": category,
                "vat_exemption_code": code,
                "vat_exemption_reason": reason,
            }
        )
    return out_lines, grouped_breakdown(out_lines, breakdown)


def grouped_breakdown(
    lines: list[dict[str, Any]], breakdown: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The breakdown by category and rate. Only S has a rate above 0, so the taxes per rate
    stand as computed (domain/money.py); a 0 % row splits by category (its tax is 0)."""
    out: list[dict[str, Any]] = []
    for item in breakdown:
        rate = Decimal(str(item["rate"]))
        groups: dict[tuple[str, str | None, str | None], int] = {}
        for line in lines:
            if Decimal(str(line["tax_rate"])) == rate:
                key = (
                    line["vat_category"],
                    line["vat_exemption_code"],
                    line["vat_exemption_reason"],
                )
                groups[key] = groups.get(key, 0) + int(line["net_cents"])
        if len(groups) <= 1:
            ((category, code, reason),) = groups or {("S" if rate > 0 else "Z", None, None): 0}
            out.append(_row(item, item["base_cents"], item["tax_cents"], category, code, reason))
            continue
        for (category, code, reason), base in groups.items():
            tax = item["tax_cents"] if category == "S" else 0
            out.append(_row(item, base, tax, category, code, reason))
    return out


def _row(
    item: dict[str, Any], base: int, tax: int, category: str, code: str | None, reason: str | None
) -> dict[str, Any]:
    return {
        "rate": item["rate"],
        "base_cents": base,
        "tax_cents": tax,
        "vat_category": category,
        "vat_exemption_code": code,
        "vat_exemption_reason": reason,
    }


def category_rate_conflict(category: str, rate: Decimal) -> str | None:
    """Why a stated category does not fit the line's rate, if it does not."""
    if category == "S" and rate <= 0:
        return "S (standard rate) needs a tax_rate above 0"
    if category != "S" and rate != 0:
        return f"{category} needs a tax_rate of 0"
    return None
