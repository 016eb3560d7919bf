"""Uploaded files kept on the server for a short while, so a second step (mapping columns) need not upload again.

The browser gets only a random token; the bytes stay in ``<data dir>/held/``
under that token, with the uploader's login and the file's name beside them.
A token is 32 hex digits checked by pattern before it names a file, so nothing
a client sends becomes a path; a file held for someone else, or for longer than
``HOLD_SECONDS``, is "not found". Held files are swept on every new hold, and
removed once their second step succeeds. They live on the server that received
the upload: behind a load balancer the mapping step needs sticky sessions (the
same applies to nothing else in the product).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from app.caller import Caller
from kb.engine import KnowledgeBase
from kb.errors import NotFound

HOLD_SECONDS = 3600  # long enough to look at a sheet and choose its fields; not a storage place
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
GONE = "the uploaded file is no longer kept (an hour at most): upload it again"


@dataclass(frozen=True)
class Held:
    token: str
    name: str
    data: bytes


def _folder(kb: KnowledgeBase) -> Path:
    return kb.settings.data_dir / "held"


def hold(kb: KnowledgeBase, *, caller: Caller, name: str, data: bytes) -> str:
    """Keep ``data`` (uploaded as ``name``) for ``caller``; the token to take it back with."""
    folder = _folder(kb)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _sweep(folder)
    token = secrets.token_hex(16)
    (folder / f"{token}.bin").write_bytes(data)
    about = {"login": caller.login, "name": name, "at": time.time()}
    (folder / f"{token}.json").write_text(json.dumps(about, ensure_ascii=False), encoding="utf-8")
    return token


def take(kb: KnowledgeBase, *, caller: Caller, token: str) -> Held:
    """The file held under ``token`` for ``caller``, or NotFound (unknown, someone else's or expired)."""
    if not _TOKEN.match(token):
        raise NotFound(GONE)
    folder = _folder(kb)
    try:
        about = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        raise NotFound(GONE) from None
    if about.get("login") != caller.login or time.time() - float(about.get("at", 0)) > HOLD_SECONDS:
        raise NotFound(GONE)
    return Held(token, str(about.get("name", "upload")), data)


def release(kb: KnowledgeBase, *, token: str) -> None:
    """Forget a held file (its second step is done)."""
    if _TOKEN.match(token):
        for suffix in (".bin", ".json"):
            (_folder(kb) / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Remove files held past ``HOLD_SECONDS``."""
    cutoff = time.time() - HOLD_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:  # another worker swept it first
            continue
