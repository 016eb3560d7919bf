"""Phase, category and tag vocabulary: テスト, test and testing are one phase for facets and filters.

Documents keep the text their authors wrote; this table maps it to a
canonical key (``test``) with a label per language, for the search facets and
filters, the library and FAQ groupings and the dashboard's coverage. Values
are compared after NFKC, case folding and removing spaces and punctuation
(and "and" is "&"), so `Ｔｅｓｔｉｎｇ`, `testing` and `Testing ` are one. A value
the table does not know stays its own value. A value written as a path,
``Implementation » Phase D`` (NASA's program phases), means its most specific
part the table knows: here ``Phase D`` (assembly, integration and test), not
the ``Implementation`` it sits under.

The built-in table covers the usual PMO phases (with PMBOK's process groups
and NASA's lifecycle phases Pre-Phase A to F), categories and common tags in
Japanese and English; ``KB_VOCABULARY`` names a JSON file of the same shape
that replaces entries by key and adds new ones:

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

FIELDS = ("phase", "category", "tag")


def _entries(rows: Iterable[tuple[str, str, str, tuple[str, ...]]]) -> dict[str, dict[str, Any]]:
    return {key: {"ja": ja, "en": en, "synonyms": list(synonyms)} for key, ja, en, synonyms in rows}


# Tags PMO stores write in either language: one tag, one facet value. Only translations and spellings of one
# idea are synonyms (リスク and risk, 引継ぎ and handover); related but different ideas stay apart (risk and
# risk register, vendor selection and vendor management).
_TAGS = _entries(
    [
        ("risk", "リスク", "Risk", ("risks",)),
        ("risk management", "リスク管理", "Risk management", ("risk management / assessment", "リスクマネジメント")),
        ("risk register", "リスク登録簿", "Risk register", ("リスク管理表", "リスク一覧")),
        ("issue management", "課題管理", "Issue management", ("issues", "issue tracking", "課題")),
        ("escalation", "エスカレーション", "Escalation", ()),
        ("decision making", "意思決定", "Decision making", ("decision-making",)),
        ("governance", "ガバナンス", "Governance", ()),
        ("approvals", "承認", "Approvals", ("approval",)),
        ("process", "プロセス", "Process", ("processes",)),
        ("procedure", "手順", "Procedure", ("procedures", "手順書")),
        ("templates", "テンプレート", "Templates", ("template", "ひな形", "雛形")),
        ("checklist", "チェックリスト", "Checklist", ("checklists",)),
        ("tools", "ツール", "Tools", ("tool",)),
        ("internal faq", "社内FAQ", "Internal FAQ", ()),
        ("budget", "予算", "Budget", ()),
        ("cost", "コスト", "Cost", ("costs", "費用")),
        ("cloud", "クラウド", "Cloud", ()),
        ("cloud cost", "クラウドコスト", "Cloud cost", ("クラウド費用",)),
        ("vendor", "ベンダー", "Vendor", ("vendors", "ベンダ")),
        ("vendor selection", "ベンダー選定", "Vendor selection", ("ベンダ選定", "業者選定", "supplier selection")),
        ("vendor management", "ベンダー管理", "Vendor management", ("ベンダ管理", "supplier management")),
        ("procurement", "調達", "Procurement", ("調達管理", "procurement management")),
        ("offshore", "オフショア", "Offshore", ("offshore development", "オフショア開発")),
        ("support", "サポート", "Support", ()),
        ("delivery", "納品", "Delivery", ()),
        ("change requests", "変更依頼", "Change requests", ("change request", "変更要求")),
        ("requirement changes", "要件変更", "Requirement changes", ("requirements changes", "要求変更")),
        ("change management", "変更管理", "Change management", ("change control",)),
        ("scope", "スコープ", "Scope", ("スコープ管理", "scope management")),
        ("scope creep", "スコープクリープ", "Scope creep", ()),
        ("requirements definition", "要件定義", "Requirements definition", ("要求定義",)),
        ("planning", "計画", "Planning", ("計画策定",)),
        ("schedule", "スケジュール", "Schedule", ("日程", "schedule management", "スケジュール管理")),
        ("progress management", "進捗管理", "Progress management", ("progress tracking",)),
        ("status reporting", "ステータス報告", "Status reporting", ("status report", "進捗報告", "progress reporting")),
        ("executive reporting", "経営報告", "Executive reporting", ("経営層報告",)),
        ("reporting", "報告", "Reporting", ()),
        ("communication", "コミュニケーション", "Communication", ("communications", "コミュニケーション管理")),
        ("stakeholders", "ステークホルダー", "Stakeholders", ("stakeholder", "利害関係者")),
        ("cross-team collaboration", "部門間連携", "Cross-team collaboration", ("cross-functional collaboration",)),
        ("handover", "引継ぎ", "Handover", ("引き継ぎ", "引継", "hand-over", "handoff")),
        ("knowledge management", "ナレッジ管理", "Knowledge management", ("ナレッジマネジメント",)),
        ("lessons learned", "教訓", "Lessons learned", ("lesson learned",)),
        ("retrospective", "振り返り", "Retrospective", ("ふりかえり", "レトロスペクティブ", "retro")),
        ("kickoff", "キックオフ", "Kickoff", ("kick-off",)),
        ("evaluation", "評価", "Evaluation", ()),
        ("testing", "テスト", "Testing", ("test", "tests", "試験")),
        ("test data", "テストデータ", "Test data", ()),
        ("uat", "受入テスト", "User acceptance testing", ("受け入れテスト", "user acceptance test")),
        ("quality", "品質", "Quality", ("品質管理", "quality management")),
        ("release", "リリース", "Release", ("releases",)),
        ("cutover", "切替", "Cutover", ("切り替え", "切替え")),
        ("rehearsal", "リハーサル", "Rehearsal", ()),
        ("data migration", "データ移行", "Data migration", ()),
        ("migration plan", "移行計画", "Migration plan", ()),
        ("operations", "運用", "Operations", ()),
        ("maintenance", "保守", "Maintenance", ("メンテナンス",)),
        ("configuration management", "構成管理", "Configuration management", ()),
        ("software", "ソフトウェア", "Software", ("ソフトウエア",)),
        ("safety", "安全", "Safety", ()),
        ("reliability", "信頼性", "Reliability", ()),
        ("security", "セキュリティ", "Security", ()),
        ("training", "教育", "Training", ("研修", "トレーニング")),
        ("marketing", "マーケティング", "Marketing", ()),
        ("campaign", "キャンペーン", "Campaign", ()),
        ("launch", "ローンチ", "Launch", ()),
        ("mobile", "モバイル", "Mobile", ()),
        ("data", "データ", "Data", ()),
    ]
)

BUILT_IN: dict[str, dict[str, dict[str, Any]]] = {
    "phase": {
        "initiation": {
            "ja": "企画",
            "en": "Initiation",
            "synonyms": [
                "立ち上げ",
                "構想",
                "企画・構想",
                "initiating",
                "concept",
                "concept studies",
                "pre-phase A",
            ],
        },
        "planning": {"ja": "計画", "en": "Planning", "synonyms": ["計画策定", "plan", "formulation"]},
        "requirements": {
            "ja": "要件定義",
            "en": "Requirements",
            "synonyms": ["要求定義", "requirements definition", "phase A"],
        },
        "design": {
            "ja": "設計",
            "en": "Design",
            "synonyms": ["基本設計", "詳細設計", "外部設計", "内部設計", "phase B"],
        },
        "build": {
            "ja": "開発",
            "en": "Build",
            "synonyms": [
                "実装",
                "製造",
                "構築",
                "実行",
                "development",
                "implementation",
                "executing",
                "execution",
                "phase C",
            ],
        },
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
                "integration and test",
                "phase D",
            ],
        },
        "deployment": {
            "ja": "移行",
            "en": "Deployment",
            "synonyms": ["本番移行", "リリース", "導入", "migration", "cutover", "release", "go-live"],
        },
        "operations": {
            "ja": "運用",
            "en": "Operations",
            "synonyms": [
                "運用保守",
                "保守",
                "maintenance",
                "operation",
                "operations and sustainment",
                "phase E",
            ],
        },
        "closing": {
            "ja": "終結",
            "en": "Closing",
            "synonyms": ["クロージング", "完了", "closure", "close-out", "phase F"],
        },
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
        "cost": {
            "ja": "予算・コスト管理",
            "en": "Budget and cost",
            "synonyms": [
                "予算",
                "コスト管理",
                "予算・ツール",
                "予算・承認",
                "cost management",
                "budget",
                "approvals and budget",
                "budget and approvals",
            ],
        },
        "support": {
            "ja": "カスタマーサポート",
            "en": "Customer support",
            "synonyms": ["サポート", "顧客対応", "support", "delivery and support", "customer delivery"],
        },
        "tools": {
            "ja": "ツール・テンプレート",
            "en": "Tools and templates",
            "synonyms": ["ツール", "tools", "templates and tools"],
        },
    },
    "tag": _TAGS,
}

_PUNCT = re.compile(r"[\s\-_・/／&＆,，.．()（）]+")
_AND = re.compile(r"(?<![a-z])and(?![a-z])")  # "Test and Verification" is "Test & Verification"
# A value written as a path from the general to the specific: "Implementation » Phase D", "開発 > 結合テスト".
_PATH = re.compile(r"\s*[»›>]\s*")


def fold(value: str) -> str:
    """The form values are compared in: NFKC, case folded, "and" as "&", without spaces or punctuation."""
    return _PUNCT.sub("", _AND.sub("&", unicodedata.normalize("NFKC", value).casefold()))


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

    def lookup(self, field_name: str, value: str) -> str | None:
        """The canonical key of ``value``, or None when the table does not know it.

        A path (``Implementation » Phase D``) means its most specific part the
        table knows: the whole first, then its parts from the last one up.
        """
        keys = self.keys.get(field_name, {})
        known = keys.get(fold(value))
        if known is None and _PATH.search(unicodedata.normalize("NFKC", value)):
            parts = _PATH.split(unicodedata.normalize("NFKC", value))
            known = next((keys[f] for f in map(fold, reversed(parts)) if f in keys), None)
        return known

    def canonical(self, field_name: str, value: str | None) -> str | None:
        """The canonical key of ``value``, or ``value`` itself when the table does not know it."""
        if not value:
            return value
        known = self.lookup(field_name, value)
        return value if known is None else known

    def label(self, field_name: str, value: str, language: str) -> str:
        """How a canonical key reads in ``language`` (an unknown value reads as itself)."""
        labels = self.labels.get(field_name, {}).get(value)
        return (labels.get(language) or labels.get("en") or value) if labels else value
