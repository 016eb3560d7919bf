"""What a message says, channel-neutral: its subject, its lines, its links, in Japanese or English.

Email, webhooks and feeds render the same ``Content``; the words are here
(``kb/`` cannot read ``web/i18n.py``) and kept short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kb.record.models import Document

WORDS: dict[str, dict[str, str]] = {
    "subject_match": {"ja": "新着 {n} 件: {what}", "en": "{n} new: {what}"},
    "subject_digest": {"ja": "まとめ ({n} 件): {what}", "en": "Digest ({n}): {what}"},
    "subject_gate": {
        "ja": "{project} が「{phase}」フェーズに入りました: 振り返るべき教訓",
        "en": "{project} entered {phase}: lessons to review first",
    },
    "intro_match": {"ja": "購読「{what}」に一致する新しい文書があります。", "en": "New documents match “{what}”."},
    "intro_gate": {
        "ja": "フェーズの開始前に、過去の教訓・手順・テンプレートを確認してください (Pause and Learn)。",
        "en": "Before the phase starts, review the past lessons, procedures and templates (Pause and Learn).",
    },
    "open_brief": {"ja": "ブリーフを開く", "en": "Open the brief"},
    "unsubscribe": {"ja": "購読を解除する", "en": "Unsubscribe"},
    "footer": {
        "ja": "PMO ナレッジベースの購読設定によりお送りしています。",
        "en": "You get this because of a subscription in the PMO knowledge base.",
    },
    "search": {"ja": "検索「{v}」", "en": "search “{v}”"},
    "tag": {"ja": "タグ「{v}」", "en": "tag “{v}”"},
    "category": {"ja": "カテゴリ「{v}」", "en": "category “{v}”"},
    "phase": {"ja": "フェーズ「{v}」", "en": "phase “{v}”"},
    "project": {"ja": "プロジェクト「{v}」", "en": "project “{v}”"},
    "kind": {"ja": "種類「{v}」", "en": "kind “{v}”"},
    "document": {"ja": "文書の新版 ({v})", "en": "new versions of {v}"},
}


def word(key: str, language: str, **values: object) -> str:
    entry = WORDS[key]
    return (entry.get(language) or entry["en"]).format(**values)


@dataclass
class Item:
    """One document in a message: what it is and where to read it."""

    id: str
    title: str
    kind: str
    url: str
    summary: str = ""


@dataclass
class Content:
    subject: str
    intro: str
    items: list[Item]
    language: str
    link: str = ""  # the message's own page (a saved brief), if any
    link_label: str = ""
    unsubscribe: str = ""
    footer: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The plain-text form (email's text part, a chat message)."""
        lines = [self.intro, ""]
        lines += [f"- [{i.kind}] {i.title}\n  {i.url}" for i in self.items]
        if self.link:
            lines += ["", f"{self.link_label}: {self.link}"]
        if self.unsubscribe:
            lines += ["", f"{word('unsubscribe', self.language)}: {self.unsubscribe}"]
        if self.footer:
            lines += ["", self.footer]
        return "\n".join(lines)


def summary_of(doc: Document, limit: int = 200) -> str:
    """A line or two saying what the document teaches: a lesson's lesson, an FAQ's answer, else its body."""
    text = doc.lesson or doc.recommendation or doc.answer or doc.body or ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def items_of(docs: Sequence[Document], public_url: str) -> list[Item]:
    base = public_url.rstrip("/")
    return [Item(d.id, d.title, d.kind.value, f"{base}/documents/{d.id}", summary_of(d)) for d in docs]


def describe(topic: str, target: str, query: str, language: str) -> str:
    """How a subscription is named in a message: ``search “vendor selection”``, ``タグ「ベンダー」``."""
    return word(topic, language, v=query if topic == "search" else target)
