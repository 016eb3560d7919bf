"""Documentation is part of the feature: every setting and command is documented, the READMEs stay short and
their examples run from a clone."""

from __future__ import annotations

import re
from pathlib import Path

from kb.config import Settings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_JA = (ROOT / "README.ja.md").read_text(encoding="utf-8")
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))}
ALL = "\n".join([README, *DOCS.values()])


def test_every_setting_is_documented() -> None:
    missing = [f"KB_{name.upper()}" for name in Settings.model_fields if f"KB_{name.upper()}" not in ALL]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    from cli.main import app

    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert [n for n in names if f"kb {n}" not in ALL] == []


def test_the_readmes_are_short_say_how_to_reach_kb_and_give_the_same_first_steps() -> None:
    assert len(README.splitlines()) < 120 and len(README_JA.splitlines()) < 120
    first_screen = "\n".join(README.splitlines()[:40])
    assert ".venv/bin/kb" in first_screen and "source .venv/bin/activate" in first_screen
    english, japanese = (re.findall(r"^\s*(\.venv/bin/kb .+)$", r, re.M) for r in (README, README_JA))
    assert len(english) == 3 and english == japanese  # the same first steps in both


def test_examples_run_from_a_clone() -> None:
    """No `../shared` path outside the benchmark docs; every repository path an example names exists."""
    for name, text in {"README.md": README, "README.ja.md": README_JA, **DOCS}.items():
        if name not in ("search.md", "development.md"):
            assert "../shared" not in text, name
    for path in re.findall(r"\b((?:examples|ingest/demo_kb|docs)/[\w./-]+\.\w+)", README + README_JA):
        assert (ROOT / path).exists(), path


def test_links_between_docs_resolve() -> None:
    for name, text in {"README.md": README, "README.ja.md": README_JA, **DOCS}.items():
        for target in re.findall(r"\]\(((?:docs/)?[\w-]+\.md)(?:#[\w-]+)?\)", text):
            base = ROOT if name.startswith("README") else ROOT / "docs"
            assert (base / target).exists(), (name, target)
