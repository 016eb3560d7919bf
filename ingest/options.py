"""What a user can tell ingest beyond the files: explicit column mappings and a kind.

Options travel with every file of a batch. They change what a file turns into,
so they are part of the no-op check: re-ingesting unchanged bytes with another
``--map`` re-parses the file instead of keeping what the old mapping made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ingest.columns import FIELD_NAMES, fold_header, target_name
from kb.errors import InvalidInput
from kb.record.models import Kind


@dataclass(frozen=True)
class IngestOptions:
    """``column_map`` maps folded header names (see ``fold_header``) to target fields; ``kind`` overrides guessing."""

    column_map: Mapping[str, str] = field(default_factory=dict)
    kind: Kind | None = None

    def fingerprint(self) -> bytes:
        """Bytes that differ whenever the options would parse a file differently; empty for the defaults."""
        if not self.column_map and self.kind is None:
            return b""
        blob = json.dumps({"map": dict(sorted(self.column_map.items())), "kind": self.kind}, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).digest()


DEFAULT_OPTIONS = IngestOptions()


def make_options(column_map: Mapping[str, str] | None = None, kind: Kind | None = None) -> IngestOptions:
    """Options from a ``header → field`` mapping (headers as the user wrote them) and a kind."""
    folded: dict[str, str] = {}
    for header, target in (column_map or {}).items():
        name = target_name(target)
        if name is None:
            raise InvalidInput(
                f"--map {header}={target}: unknown field {target!r}; use one of {', '.join(FIELD_NAMES)}"
            )
        if not fold_header(header):
            raise InvalidInput(f"--map {header}={target}: the column name is empty")
        folded[fold_header(header)] = name
    return IngestOptions(column_map=folded, kind=kind)


def parse_map_args(values: Iterable[str]) -> dict[str, str]:
    """``["教訓=lesson", "Q=question"]`` → ``{"教訓": "lesson", "Q": "question"}``; the last ``=`` splits."""
    mapping: dict[str, str] = {}
    for value in values:
        header, sep, target = value.rpartition("=")
        if not sep or not header.strip() or not target.strip():
            raise InvalidInput(f"--map {value!r}: write it as COLUMN=FIELD, for example --map 教訓=lesson")
        mapping[header.strip()] = target.strip()
    return mapping
