"""Documentation is part of the feature: every setting is in the README."""

from __future__ import annotations

from pathlib import Path

from kb.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme() -> None:
    missing = [f"KB_{name.upper()}" for name in Settings.model_fields if f"KB_{name.upper()}" not in README]
    assert missing == []


def test_every_cli_command_is_documented_in_the_readme() -> None:
    from cli.main import app

    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert [n for n in names if f"kb {n}" not in README] == []
