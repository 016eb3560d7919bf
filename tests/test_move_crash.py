"""Crash safety of a lifecycle move: SIGKILL between its steps leaves the whole move or none of it.

Approving version 2 of a procedure writes five things: version 2 published,
its review event, version 1 superseded, version 1's review event, and the two
audit rows (``app.standards.move``). A process killed between any two of them
must not leave two published versions, a move without its review event, or
a move nobody audited. A subprocess makes the move and kills itself with
SIGKILL at one point (a hook wrapped around the step); the parent then opens
the store and finds the state before the move, or, for a kill after the
commit, the whole move. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kb.config import Settings
from kb.identity.audit import AuditLog
from kb.pmo.lifecycle import history
from kb.record.models import DocumentDraft, Kind, Status
from kb.record.store import open_store

pytestmark = pytest.mark.slow  # a Python process per kill point: ~3 s each
ROOT = Path(__file__).resolve().parents[1]

# The subprocess: wrap one step of the move so the process dies there, as a machine's power cut would.
MOVER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path

    import app.standards
    import kb.pmo.lifecycle as lifecycle
    from app.caller import Caller
    from kb.config import Settings
    from kb.engine import KnowledgeBase
    from kb.identity.access import Principal
    from kb.record.models import Role
    from tests.conftest import HashingEmbedder

    data, url, doc_id, point = sys.argv[1], sys.argv[2] or None, sys.argv[3], sys.argv[4]

    def die_at(module, name, *, call, before=False):
        step, seen = getattr(module, name), [0]

        def wrapped(*args, **kwargs):
            seen[0] += 1
            if before and seen[0] == call:
                os.kill(os.getpid(), signal.SIGKILL)
            result = step(*args, **kwargs)
            if not before and seen[0] == call:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(module, name, wrapped)

    if point == "after-publishing-the-new-version":
        die_at(lifecycle, "_rewrite", call=1)
    elif point == "after-its-review-event":
        die_at(lifecycle, "_record", call=1)
    elif point == "after-superseding-the-old-version":
        die_at(lifecycle, "_rewrite", call=2)
    elif point == "before-the-audit-rows":
        die_at(app.standards, "audit", call=1, before=True)
    elif point == "between-the-audit-rows":
        die_at(app.standards, "audit", call=2, before=True)
    elif point == "after-the-commit":
        die_at(app.standards, "indexed", call=1, before=True)

    kb = KnowledgeBase.open(Settings(data_dir=Path(data), database_url=url), embedder=HashingEmbedder())
    admin = Caller.local(Principal("boss", Role.pmo_admin, via="cli"))
    app.standards.move(kb, caller=admin, doc_id=doc_id, action=lifecycle.Action.approve)
    kb.close()
    """
)

KILLED_INSIDE = [
    "after-publishing-the-new-version",
    "after-its-review-event",
    "after-superseding-the-old-version",
    "before-the-audit-rows",
    "between-the-audit-rows",
]


def _two_versions(settings: Settings) -> tuple[str, str]:
    """Version 1 published, version 2 of the same procedure waiting for approval."""
    store = open_store(settings)
    try:
        fields = {"kind": Kind.procedure, "title": "Vendor selection procedure", "body": "Steps."}
        old = store.create(DocumentDraft.model_validate({**fields, "version": "1", "status": Status.published}))
        new = store.create(DocumentDraft.model_validate({**fields, "version": "2", "status": Status.in_review}))
        return old.id, new.id
    finally:
        store.close()


def _state(settings: Settings, old_id: str, new_id: str) -> dict[str, object]:
    store = open_store(settings)
    try:
        audited = AuditLog(store.engine).events()
        return {
            "statuses": (store.get(old_id).status, store.get(new_id).status),
            "review events": sorted((e.document_id == new_id, e.action) for e in history(store, old_id))
            + sorted((e.document_id == new_id, e.action) for e in history(store, new_id)),
            "audit rows": sorted((e.action, e.target == new_id) for e in audited),
            "integrity": store.check(),
        }
    finally:
        store.close()


BEFORE = {
    "statuses": (Status.published, Status.in_review),
    "review events": [],
    "audit rows": [],
    "integrity": [],
}
AFTER = {
    "statuses": (Status.superseded, Status.published),
    "review events": [(False, "supersede"), (True, "approve")],
    "audit rows": [("approve", True), ("supersede", False)],
    "integrity": [],
}


def _move_and_die(settings: Settings, doc_id: str, point: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", MOVER, str(settings.data_dir), settings.database_url or "", doc_id, point],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr.decode()[-2000:]
    return done.returncode


@pytest.mark.parametrize("point", KILLED_INSIDE)
def test_a_move_killed_half_way_leaves_none_of_it(tmp_path: Path, database_url: str | None, point: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    old_id, new_id = _two_versions(settings)
    assert _move_and_die(settings, new_id, point) == -signal.SIGKILL
    assert _state(settings, old_id, new_id) == BEFORE
    # and the move can be made again from there
    assert _move_and_die(settings, new_id, "none") == 0
    assert _state(settings, old_id, new_id) == AFTER


def test_a_move_killed_after_its_commit_keeps_all_of_it(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    old_id, new_id = _two_versions(settings)
    assert _move_and_die(settings, new_id, "after-the-commit") == -signal.SIGKILL
    assert _state(settings, old_id, new_id) == AFTER
