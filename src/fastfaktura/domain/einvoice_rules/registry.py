"""The rule table: each rule one small named function, registered with its code, where the
code comes from, its severity and what it checks (docs/e-invoicing.md's table is this table;
tests/unit/test_einvoice_rules_docs.py keeps the two equal)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from fastfaktura.domain.einvoice_rules.model import Document, Finding, Report, Severity

# What a rule function yields: (API field path, message) for each place the rule is broken.
Broken = Iterator[tuple[str, str]]
RuleFunction = Callable[[Document], Iterable[tuple[str, str]]]

SOURCES: Final = (
    "EN 16931",
    "Peppol BIS 3.0",
    "Norway (EHF)",
    "Denmark",
    "France (reform)",
    "FastFaktura",
)


@dataclass(frozen=True)
class Rule:
    code: str
    source: str
    severity: Severity
    checks: str
    function: RuleFunction

    def findings(self, doc: Document) -> list[Finding]:
        return [Finding(field, self.code, message) for field, message in self.function(doc)]


RULES: list[Rule] = []


def rule(
    code: str, source: str, severity: Severity, checks: str
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as the rule `code` (codes are unique)."""
    if source not in SOURCES:
        raise ValueError(f"unknown rule source: {source}")

    def register(function: RuleFunction) -> RuleFunction:
        if any(existing.code == code for existing in RULES):
            raise ValueError(f"rule {code} registered twice")
        RULES.append(Rule(code, source, severity, checks, function))
        return function

    return register


def rule_named(code: str) -> Rule:
    return next(r for r in RULES if r.code == code)


def check_document(doc: Document) -> Report:
    """Every rule on the document: its errors (refuse the issue) and warnings (report only)."""
    errors: list[Finding] = []
    warnings: list[Finding] = []
    for item in RULES:
        (errors if item.severity == "error" else warnings).extend(item.findings(doc))
    return Report(tuple(errors), tuple(warnings))
