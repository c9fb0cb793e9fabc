"""Legal checks before a document is issued: EN 16931, Peppol BIS 3.0, national and French
reform rules, each one small named function registered with its code (registry.py).

Pure: the document to judge is its own model (model.py); the identifiers are checked with
python-stdnum and schwifty, which do no I/O.
"""

from fastfaktura.domain.einvoice_rules import (  # noqa: F401  (each module registers its rules)
    en16931,
    france,
    identifier_rules,
    peppol,
    vat_categories,
)
from fastfaktura.domain.einvoice_rules.model import (
    Document,
    Finding,
    Line,
    Party,
    Report,
    VatSubtotal,
)
from fastfaktura.domain.einvoice_rules.registry import RULES, Rule, check_document

__all__ = [
    "RULES",
    "Document",
    "Finding",
    "Line",
    "Party",
    "Report",
    "Rule",
    "VatSubtotal",
    "check_document",
]
