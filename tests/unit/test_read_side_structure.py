"""The read side's shape: it reads events through its port, never the application; the
projections/ folder holds read models only, and its README lists exactly its folders; the SQL
that serves no read model ships inside the package, beside its code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fastfaktura
from fastfaktura.readmodels.models import READ_MODELS

SRC = Path(fastfaktura.__file__).resolve().parent
ROOT = SRC.parents[1]
PROJECTIONS = ROOT / "projections"


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_read_side_never_imports_the_application() -> None:
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m in FORBIDDEN)
        for path in sorted((SRC / "readmodels").glob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


FORBIDDEN = {"fastfaktura.application", "fastfaktura.event_reader"}


def test_projections_holds_read_models_only_and_its_readme_lists_each() -> None:
    folders = sorted(p.name for p in PROJECTIONS.iterdir() if p.is_dir())
    assert folders == sorted(model.name for model in READ_MODELS)
    for folder in folders:
        assert sorted(p.name for p in (PROJECTIONS / folder).iterdir()) == [
            "README.md",
            "apply.sql",
            "queries.sql",
        ], folder
    listed = re.findall(r"^\| \[(\w+)/\]", (PROJECTIONS / "README.md").read_text(), re.M)
    assert sorted(listed) == folders


def test_no_read_model_query_reads_the_event_store() -> None:
    for path in PROJECTIONS.glob("*/*.sql"):
        assert "invoicing_events" not in path.read_text(), path


def test_every_local_statement_file_exists_inside_the_package() -> None:
    """`local_statement(__file__, "<file>", ...)` files: beside their module, so in the wheel."""
    call = re.compile(r'local_statement\(\s*__file__,\s*"([^"]+)"')
    found = 0
    for path in SRC.rglob("*.py"):
        for file in call.findall(path.read_text()):
            assert (path.parent / file).is_file(), (path, file)
            found += 1
    assert found >= 5
