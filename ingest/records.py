"""JSON Lines (and JSON arrays) of records: the same rows as a spreadsheet, one object each.

Each object's keys are column names, mapped to fields exactly as a
spreadsheet's headers are (``columns``), so ``lessons.jsonl`` and
``lessons.csv`` of the same register give the same documents. A list value
feeds tags directly; a record's key is its id field, else its line (JSON
Lines) or position (JSON array).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.columns import columns
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.reading import decode_text
from ingest.rows import claim_id, guess_kind, row_draft
from ingest.values import cell_text
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft

_TOO_DEEP = "the JSON is nested thousands of levels deep; a record is a flat object of fields"


class RecordsIngester:
    """``.jsonl``/``.ndjson`` files, one JSON object per line, and ``.json`` files holding a list of objects."""

    format: str = "records"
    extensions: tuple[str, ...] = (".jsonl", ".ndjson", ".json")

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        text = decode_text(data, source=source).lstrip("\ufeff")
        records = _array(text, source) if path.suffix.lower() == ".json" else _lines(text, source)
        drafts: list[DocumentDraft] = []
        seen: dict[str, str] = {}
        for number, line, record in records:
            place = f"record {number}" if line is None else f"line {line}"  # for messages about the record
            cols = columns(list(record), options.column_map)
            cells = [(c, record[c.header]) for c in cols]
            kind = guess_kind((c.target for c in cols), options, path)
            id_column = next((c for c in cols if c.target == "id"), None)
            row_id = cell_text(record[id_column.header]) if id_column else ""
            key = f"id-{row_id}" if row_id else f"{'line' if line else 'record'}-{line or number}"
            try:
                draft = row_draft(cells, kind=kind, key=key, place="" if line else place, source=source, noun="key")
            except InvalidInput as exc:
                raise InvalidInput(exc.reason, source=source, line=line, place=exc.place) from None
            if draft is None:
                continue
            if row_id:
                claim_id(seen, row_id, source=source, line=line, place=place)
            drafts.append(draft)
        if not drafts:
            raise InvalidInput("the file holds no records", source=source)
        return drafts


def _lines(text: str, source: str) -> list[tuple[int, int | None, dict[str, Any]]]:
    out: list[tuple[int, int | None, dict[str, Any]]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON: {exc.msg} at column {exc.colno}", source=source, line=line) from None
        except RecursionError:  # json recurses once per level: thousands of ``[`` exhaust the stack
            raise InvalidInput(_TOO_DEEP, source=source, line=line) from None
        if not isinstance(record, dict):
            raise InvalidInput("each line must be a JSON object ({...})", source=source, line=line)
        out.append((len(out) + 1, line, record))
    return out


def _array(text: str, source: str) -> list[tuple[int, int | None, dict[str, Any]]]:
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidInput(_TOO_DEEP, source=source) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} at column {exc.colno}", source=source, line=exc.lineno) from None
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise InvalidInput(
            "a .json file must hold a list of objects ([{...}, ...]); use .jsonl for one object per line",
            source=source,
        )
    return [(n, None, record) for n, record in enumerate(value, start=1)]
