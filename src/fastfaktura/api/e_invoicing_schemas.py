"""The wire types of the e-invoicing fields (API.md "E-invoices and legal checks"): the
business's settings, an invoice's terms and a line's stated VAT category. Used by
api/schemas.py's request structs; checked by api/fields.py's tables (tests/unit pins both)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

# As api/schemas.py's NON_BLANK_TEXT (which imports this module): printable, not blank.
_PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*"
_NON_BLANK_TEXT = f"^{_PRINTABLE}[^\\s\\x00-\\x1f\\x7f]{_PRINTABLE}$"

VatOnDebits = Annotated[
    bool,
    Meta(
        description="France: VAT due on debits (printed on invoices); default false",
        examples=[True],
    ),
]
BusinessOperationCategory = Annotated[
    Literal["goods", "services", "mixed"],
    Meta(
        description="Default operation category of new invoices; default services",
        examples=["services"],
    ),
]
VatCategoryStated = Annotated[
    Literal["S", "Z", "E", "AE", "G"],
    Meta(
        description=(
            "VAT category (BT-151), when the business knows better than the default: "
            "S needs a rate above 0, the others a rate of 0"
        ),
        examples=["AE"],
    ),
]
ExemptionReasonStated = Annotated[
    str,
    Meta(
        max_length=300,
        pattern=_NON_BLANK_TEXT,
        description="Exemption reason (BT-120), with vat_category E, AE or G",
        examples=["Exonération de TVA, article 261 du CGI"],
    ),
]
OperationCategoryField = Annotated[
    Literal["goods", "services", "mixed"],
    Meta(
        description="Operation category (French reform); default: the business's",
        examples=["goods"],
    ),
]
DeliveryAddress = Annotated[
    str,
    Meta(
        max_length=1000,
        pattern=_NON_BLANK_TEXT,
        description="Delivery address (BG-15), when it differs from the client's",
        examples=["Entrepôt 3\n12 rue des Docks\n13002 Marseille"],
    ),
]
_TAX_EXCHANGE_RATE_DESCRIPTION = (
    "Units of the accounting currency for one unit of the invoice currency (BT-111), for an "
    "invoice in another currency than the business's; > 0, up to 6 decimals"
)
TaxExchangeRate = (
    Annotated[
        float,
        Meta(
            gt=0,
            le=1_000_000_000,
            multiple_of=0.000001,
            description=_TAX_EXCHANGE_RATE_DESCRIPTION,
            examples=[11.4521],
        ),
    ]
    | Annotated[
        str,
        Meta(
            pattern=r"^[0-9]{1,9}(\.[0-9]{1,6})?$",
            description=_TAX_EXCHANGE_RATE_DESCRIPTION,
            examples=["11.4521"],
        ),
    ]
)
