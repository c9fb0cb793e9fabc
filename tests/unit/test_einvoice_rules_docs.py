"""docs/e-invoicing.md's table of the rules checked is the registry's: same codes, sources,
severities and descriptions, in the same order (a rule added, removed or reworded without
its documentation fails here)."""

from __future__ import annotations

from pathlib import Path

from fastfaktura.domain.einvoice_rules import RULES
from fastfaktura.domain.einvoice_rules.registry import SOURCES

DOC = Path(__file__).resolve().parents[2] / "docs" / "e-invoicing.md"
START, END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def rendered_table() -> str:
    """The table as the docs hold it.

    Regenerate it with: python -m tests.unit.test_einvoice_rules_docs"""
    rows = ["| rule | from | refuses the send? | what is checked |", "| --- | --- | --- | --- |"]
    # Grouped by where the rule comes from, in registration order within a group.
    for rule in sorted(RULES, key=lambda r: SOURCES.index(r.source)):
        refuses = "yes" if rule.severity == "error" else "no (warning)"
        rows.append(f"| `{rule.code}` | {rule.source} | {refuses} | {rule.checks} |")
    return "\n".join(rows)


def test_the_documented_rule_table_is_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text
    assert END in text
    documented = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert documented == rendered_table()


if __name__ == "__main__":
    print(rendered_table())
