"""The layers, read from the source: web/ and cli/ are thin over app/, and imports run one way.

``web/`` and ``cli/`` parse, call one use case in ``app/`` and render: none of
their modules may open a database session or reach the searcher, the indexer
or the store, or the CLI and the API could answer the same question
differently again. The check walks every module's syntax tree, so a new
route or command cannot slip past it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Modules (or names from a module) that mean a session, the store or the search core.
FORBIDDEN_MODULES = (
    "sqlmodel",
    "sqlalchemy",
    "kb.record.store",
    "kb.record.db",
    "kb.record.transaction",
    "kb.search.indexer",
)
FORBIDDEN_NAMES = {("kb.search.searcher", "Searcher")}
# Attributes of the knowledge base that are the store, the search core or the database engine.
FORBIDDEN_ATTRIBUTES = frozenset({"store", "searcher", "indexer", "engine"})

# The explicit exceptions, each with why. Keep this short: a new entry needs a reason a reviewer accepts.
ALLOWED: dict[str, set[str]] = {
    # The composition root: builds the knowledge base, wires the search metrics (searcher.on_search) and
    # hands the background cluster cache a view of the current indexer.
    "web/app.py": {"searcher", "indexer"},
}

LAYERS = {
    "kb": ("app", "ingest", "web", "cli"),
    "app": ("web", "cli"),
    "ingest": ("app", "web", "cli"),
}


def _modules(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imports(tree: ast.AST) -> Iterator[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name, node.lineno


def _is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(path: Path) -> list[str]:
    """What ``path`` (a web/ or cli/ module) does that only app/ may do, minus its allowed exceptions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    allowed = ALLOWED.get(_name(path), set())
    found = []
    for module, name, line in _imports(tree):
        for forbidden in FORBIDDEN_MODULES:
            if _is_under(module, forbidden) and forbidden not in allowed:
                found.append(f"{_name(path)}:{line} imports {module}")
        if (module, name) in FORBIDDEN_NAMES and name not in allowed:
            found.append(f"{_name(path)}:{line} imports {module}.{name}")
        if name is not None and _is_under(f"{module}.{name}", "kb.search.indexer"):
            found.append(f"{_name(path)}:{line} imports {module}.{name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES and node.attr not in allowed:
            found.append(f"{_name(path)}:{node.lineno} reaches .{node.attr}")
    return found


@pytest.mark.parametrize("path", list(_modules("web", "cli")), ids=_name)
def test_web_and_cli_only_call_the_application_layer(path: Path) -> None:
    assert violations(path) == []


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_run_one_way(package: str) -> None:
    wrong = [
        f"{_name(path)}:{line} imports {module}"
        for path in _modules(package)
        for module, _, line in _imports(ast.parse(path.read_text(encoding="utf-8")))
        if any(_is_under(module, upper) for upper in LAYERS[package])
    ]
    assert wrong == []


def test_the_check_sees_what_it_forbids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A route that reads the store, imports the indexer or opens a session is caught (the check is not blind)."""
    monkeypatch.setattr("tests.test_architecture.ROOT", tmp_path)
    route = tmp_path / "web" / "route.py"
    route.parent.mkdir()
    route.write_text(
        "from sqlmodel import Session\n"
        "from kb.search import indexer\n"
        "from kb.search.searcher import Filters, Searcher\n"
        "def page(kb):\n"
        "    return kb.store.counts(), kb.searcher.search('x')\n",
        encoding="utf-8",
    )
    found = sorted(v.split(" ", 1)[1] for v in violations(route))
    assert found == [
        "imports kb.search.indexer",
        "imports kb.search.searcher.Searcher",
        "imports sqlmodel",
        "reaches .searcher",
        "reaches .store",
    ]
