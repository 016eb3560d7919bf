"""Japanese words → English glosses, from JMdict, for cross-language lexical search.

JMdict (the Electronic Dictionary Research and Development Group's Japanese–English
dictionary, CC BY-SA 4.0) ships compiled to SQLite in the ``jamdict-data``
package. It is read where pip put it, one indexed lookup per word (~1.4 ms),
cached per process: no table is built or copied, so nothing derived from the
dictionary is stored beside the product, and the process holds only the
glosses of the words it has met.

A word's glosses are those of the **first sense** of its common entries (those
JMdict marks with a frequency tag: 取得 → acquisition, not 取り得 "merit"),
at most :data:`ENTRIES` of them; a word with no common entry takes its first
entry. Later senses are mostly figurative or rare and, measured on the
cross-language development sets, cost more than they find.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Protocol

ENTRIES = 2
"""Common entries of one written form whose first sense is used (市: market, city)."""

ATTRIBUTION = (
    "Cross-language search uses the JMdict dictionary files (jamdict-data 1.5), the property of the Electronic "
    "Dictionary Research and Development Group (EDRDG), under the Group's licence (CC BY-SA 4.0): "
    "https://www.edrdg.org/edrdg/licence.html"
)
"""The acknowledgement the EDRDG licence asks for; docs/search.md (JMdict) and the web UI's footer carry it too."""

_PARENTHESES = re.compile(r"\([^)]*\)")


class Glossary(Protocol):
    """English glosses of a Japanese word (a dictionary form, as the analyzer's normalised forms are)."""

    @property
    def identity(self) -> str:
        """Name and version of the dictionary; a lexical index is stamped with it."""
        ...

    def glosses(self, word: str) -> tuple[str, ...]:
        """Gloss texts ("to apply for", "delay"), most relevant first; empty when the word is unknown."""
        ...


class JmdictGlossary:
    """:class:`Glossary` over the JMdict SQLite file of ``jamdict-data``. Thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or _jamdict_db()
        version = _version("jamdict-data")
        self.identity = f"jmdict:{version}:first-sense:{ENTRIES}"
        self._local = threading.local()
        self._cached = lru_cache(maxsize=200_000)(self._lookup)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def glosses(self, word: str) -> tuple[str, ...]:
        return self._cached(word)

    def _lookup(self, word: str) -> tuple[str, ...]:
        db = self._db()
        rows = db.execute(
            "select k.idseq, exists(select 1 from KJP p where p.kid = k.ID) from Kanji k where k.text = ?", (word,)
        ).fetchall()
        if not rows:
            rows = db.execute(
                "select k.idseq, exists(select 1 from KNP p where p.kid = k.ID) from Kana k where k.text = ?", (word,)
            ).fetchall()
        if not rows:
            return ()
        common = sorted({idseq for idseq, tagged in rows if tagged})
        chosen = common[:ENTRIES] or [min(idseq for idseq, _ in rows)]
        out: list[str] = []
        for idseq in chosen:
            sense = db.execute("select min(ID) from Sense where idseq = ?", (idseq,)).fetchone()
            if sense is None or sense[0] is None:
                continue
            for (text,) in db.execute("select text from SenseGloss where sid = ? and lang = 'eng'", (sense[0],)):
                gloss = " ".join(_PARENTHESES.sub(" ", text).split())
                if gloss and gloss not in out:
                    out.append(gloss)
        return tuple(out)


def _jamdict_db() -> Path:
    try:
        folder = resources.files("jamdict_data")
    except ModuleNotFoundError:
        raise RuntimeError(
            "cross-language search needs the JMdict dictionary: pip install jamdict-data (or pip install -e .)"
        ) from None
    path = Path(str(folder)) / "jamdict.db"
    if not path.is_file():
        raise RuntimeError(f"jamdict-data is installed but {path} is missing: reinstall it (pip install jamdict-data)")
    return path


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def default_glossary() -> JmdictGlossary:
    """The process's one JMdict glossary (opened on first use, shared by every index)."""
    return JmdictGlossary()
