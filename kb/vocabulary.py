"""Phase and category vocabulary: テスト, test and testing are one phase for facets and filters.

Documents keep the text their authors wrote; this table maps it to a
canonical key (``test``) with a label per language, for the search facets and
filters, the library and FAQ groupings and the dashboard's coverage. Values
are compared after NFKC, case folding and removing spaces and punctuation, so
`Ｔｅｓｔｉｎｇ`, `testing` and `Testing ` are one. A value the table does not know
stays its own value.

The built-in table covers the usual PMO phases and categories in Japanese and
English; ``KB_VOCABULARY`` names a JSON file of the same shape that replaces
entries by key and adds new ones:

    {"phase": {"test": {"ja": "テスト", "en": "Test", "synonyms": ["試験", "QA", "検証"]}}}
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import InvalidInput

FIELDS = ("phase", "category")

BUILT_IN: dict[str, dict[str, dict[str, Any]]] = {
    "phase": {
        "initiation": {
            "ja": "企画",
            "en": "Initiation",
            "synonyms": ["立ち上げ", "構想", "企画・構想", "initiating", "concept"],
        },
        "planning": {"ja": "計画", "en": "Planning", "synonyms": ["計画策定", "plan"]},
        "requirements": {"ja": "要件定義", "en": "Requirements", "synonyms": ["要求定義", "requirements definition"]},
        "design": {"ja": "設計", "en": "Design", "synonyms": ["基本設計", "詳細設計", "外部設計", "内部設計"]},
        "build": {"ja": "開発", "en": "Build", "synonyms": ["実装", "製造", "構築", "development", "implementation"]},
        "test": {
            "ja": "テスト",
            "en": "Test",
            "synonyms": [
                "試験",
                "検証",
                "結合テスト",
                "総合テスト",
                "システムテスト",
                "testing",
                "QA",
                "UAT",
                "受入テスト",
            ],
        },
        "deployment": {
            "ja": "移行",
            "en": "Deployment",
            "synonyms": ["本番移行", "リリース", "導入", "migration", "cutover", "release", "go-live"],
        },
        "operations": {"ja": "運用", "en": "Operations", "synonyms": ["運用保守", "保守", "maintenance", "operation"]},
        "closing": {"ja": "終結", "en": "Closing", "synonyms": ["クロージング", "完了", "closure", "close-out"]},
    },
    "category": {
        "vendor": {"ja": "ベンダー管理", "en": "Vendor management", "synonyms": ["調達管理", "調達", "procurement"]},
        "change": {"ja": "変更管理", "en": "Change control", "synonyms": ["change management"]},
        "scope": {"ja": "スコープ管理", "en": "Scope management", "synonyms": []},
        "reporting": {
            "ja": "監視・報告",
            "en": "Monitoring & reporting",
            "synonyms": ["進捗管理", "報告", "monitoring and reporting", "reporting"],
        },
        "communication": {"ja": "コミュニケーション", "en": "Communication", "synonyms": ["コミュニケーション管理"]},
        "knowledge": {"ja": "ナレッジ管理", "en": "Knowledge management", "synonyms": []},
        "governance": {"ja": "ガバナンス", "en": "Governance", "synonyms": ["PMOプロセス"]},
        "quality": {"ja": "品質管理", "en": "Quality", "synonyms": ["testing", "テスト", "quality management"]},
        "initiation": {"ja": "立ち上げ", "en": "Initiation", "synonyms": []},
        "closing": {"ja": "終結", "en": "Closing", "synonyms": []},
        "cost": {"ja": "予算・コスト管理", "en": "Cost management", "synonyms": ["予算", "コスト管理", "予算・ツール"]},
    },
}

_PUNCT = re.compile(r"[\s\-_・/／&＆,，.．()（）]+")


def fold(value: str) -> str:
    """The form values are compared in: NFKC, case folded, without spaces or punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", value).casefold())


@dataclass(frozen=True)
class Vocabulary:
    """field → folded synonym → canonical key, and field → key → language → label."""

    keys: dict[str, dict[str, str]]
    labels: dict[str, dict[str, dict[str, str]]]

    @classmethod
    def of(cls, table: dict[str, dict[str, dict[str, Any]]]) -> Vocabulary:
        keys: dict[str, dict[str, str]] = {f: {} for f in FIELDS}
        labels: dict[str, dict[str, dict[str, str]]] = {f: {} for f in FIELDS}
        for field_name, entries in table.items():
            if field_name not in FIELDS:
                raise InvalidInput(f"vocabulary: unknown field {field_name!r} (use {', '.join(FIELDS)})")
            for key, entry in entries.items():
                labels[field_name][key] = {lang: str(entry[lang]) for lang in ("ja", "en") if entry.get(lang)}
                for name in [key, *(entry.get(lang, "") for lang in ("ja", "en")), *entry.get("synonyms", [])]:
                    if name:
                        keys[field_name][fold(str(name))] = key
        return cls(keys, labels)

    @classmethod
    def load(cls, path: Path | None) -> Vocabulary:
        """The built-in table, with the entries of the JSON file at ``path`` replacing or adding keys."""
        table = {f: dict(entries) for f, entries in BUILT_IN.items()}
        if path is not None:
            try:
                extra = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InvalidInput(f"vocabulary file {path}: {exc}") from exc
            if not isinstance(extra, dict):
                raise InvalidInput(f"vocabulary file {path}: expected an object of fields")
            for field_name, entries in extra.items():
                table.setdefault(field_name, {}).update(entries)
        return cls.of(table)

    def canonical(self, field_name: str, value: str | None) -> str | None:
        """The canonical key of ``value``, or ``value`` itself when the table does not know it."""
        if not value:
            return value
        return self.keys.get(field_name, {}).get(fold(value), value)

    def label(self, field_name: str, value: str, language: str) -> str:
        """How a canonical key reads in ``language`` (an unknown value reads as itself)."""
        labels = self.labels.get(field_name, {}).get(value)
        return (labels.get(language) or labels.get("en") or value) if labels else value

    def variants(self, field_name: str, wanted: Iterable[str], present: Iterable[str]) -> tuple[str, ...]:
        """The values among ``present`` (as written in documents) that mean one of ``wanted``."""
        targets = {self.canonical(field_name, w) for w in wanted}
        return tuple(sorted({p for p in present if self.canonical(field_name, p) in targets}))

    def merge_counts(self, field_name: str, counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
        """Facet counts by canonical key, most frequent first (documents carry one value per field)."""
        merged: dict[str, int] = {}
        for value, n in counts:
            key = self.canonical(field_name, value) or value
            merged[key] = merged.get(key, 0) + n
        return sorted(merged.items(), key=lambda item: (-item[1], item[0]))
