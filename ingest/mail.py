"""Mail (.eml, Outlook .msg): an answered question becomes an FAQ, any other message a document.

A PMO's FAQ answers often live in mail: someone asks「経費精算の締め日は？」, the
PMO replies. A reply whose subject is a question (``Re: 経費精算の締め日は？``)
is one FAQ: the subject without its ``Re:``/``転送:`` prefixes is the question,
the reply's own text (above the quoted original) is the answer, and the quoted
question is kept in ``meta.asked``. One file is one thread: the newest reply
holds the answer, so it is the one to ingest.

Any other message is a document of the kind ``--kind``, its folder or a kind
word in its file name or subject say, through the same rules as Markdown. A
question nobody has answered yet fails with a message saying so, rather than
becoming an FAQ without an answer.

Attachments are files of their own (``registry.Container``): the pipeline
stores each as its own source, ``<mail>#<attachment name>``, read by its own
format's ingester as if it had been ingested next to the message (a procedure
.docx sent with the mail becomes a procedure with its original). So ingesting
the mail again updates them, a changed template becomes its next version, and
a bad attachment fails alone, named with its mail, while the message is
stored. The message lists its attachments' names in ``meta.attachments``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bs4 import BeautifulSoup

from ingest.kinds import require_kind
from ingest.markdown import document_drafts
from ingest.markup import escape_text, tidy
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.outlook import MAX_ATTACHMENTS, read_msg
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, Kind

if TYPE_CHECKING:  # the registry holds this ingester
    from ingest.registry import Attached

_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|tr)\s*(?:\[\d+\])?\s*[:：]|転送\s*[:：]|返信\s*[:：])\s*", re.I)
_QUESTION_WORDS = re.compile(
    r"[?？]\s*$|(?:ですか|ますか|でしょうか|ませんか|教えてください|教えて下さい|について質問|ご質問|方法は)"
    r"|^(?:how|what|why|when|where|who|which|can|could|is|are|do|does|should|may)\b",
    re.I,
)
# Where the quoted original starts in a reply: Outlook's header block, "On … wrote:", a "> " line.
_QUOTE_START = re.compile(
    r"^(?:>|-{2,}\s*(?:original message|元のメッセージ|転送メッセージ|forwarded message)"
    r"|(?:from|差出人|送信者)\s*[:：]|on .+ wrote:|.+(?:wrote|書きました)\s*[:：]\s*$)",
    re.I,
)


@dataclass
class Message:
    """One mail message as read from either format."""

    subject: str
    sender: str = ""
    date: dt.date | None = None
    text: str = ""
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


class MailIngester:
    """``.eml`` (RFC 822, read with the standard library) and Outlook ``.msg`` files."""

    format: str = "mail"
    extensions: tuple[str, ...] = (".eml", ".msg")

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        message = _read(path, data, source)
        drafts = message_drafts(path, message, source=source, options=options)
        if message.attachments:
            drafts[0].meta["attachments"] = [{"name": name} for name, _ in attached_files(message)]
        return drafts

    def attachments(self, path: Path, data: bytes, *, source: str) -> list[Attached]:
        """The message's attached files, each under a name unique in it; the pipeline ingests each on its own."""
        return attached_files(_read(path, data, source))


def _read(path: Path, data: bytes, source: str) -> Message:
    return read_msg(data, source) if path.suffix.lower() == ".msg" else read_eml(data, source)


def attached_files(message: Message) -> list[Attached]:
    """Attachments named as files (never paths), a repeated name numbered: ``plan.xlsx``, ``plan (2).xlsx``."""
    out: list[Attached] = []
    taken: set[str] = set()
    for number, (name, data) in enumerate(message.attachments, start=1):
        name = _file_name(name) or f"attachment-{number}"
        stem, dot, suffix = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        copy = 1
        while name.casefold() in taken:
            copy += 1
            name = f"{stem} ({copy}){dot}{suffix}"
        taken.add(name.casefold())
        out.append((name, data))
    return out


def _file_name(name: str) -> str:
    """The last part of an attachment's name, without control characters: it names the file, never a path."""
    return re.sub(r"[\x00-\x1f\x7f#]", "", name.replace("\\", "/").split("/")[-1]).strip(" .")[:200]


def message_drafts(path: Path, message: Message, *, source: str, options: IngestOptions) -> list[DocumentDraft]:
    """An FAQ for an answered question, else a document of the kind the message's place names."""
    question = clean_subject(message.subject)
    own, quoted = split_reply(message.text)
    replied = question != message.subject.strip() or bool(quoted)
    meta: dict[str, Any] = {k: v for k, v in (("from", message.sender), ("subject", message.subject)) if v}
    fields: dict[str, Any] = {"title": question or path.stem}
    if message.date:
        fields["doc_date"] = message.date
    asks = bool(question) and _QUESTION_WORDS.search(question) is not None
    if asks and replied and own and options.kind in (None, Kind.faq):
        if quoted:
            meta["asked"] = quoted
        answer = tidy(escape_text(own))
        fields.update(question=question, answer=answer)
        return document_drafts(path, answer, kind=Kind.faq, fields=fields, meta=meta, source=source)
    kind = require_kind(path, options.kind, source=source, title=question)
    if kind is Kind.faq and asks and not (replied and own):
        raise InvalidInput(
            "the message asks a question but holds no answer: ingest the reply that answers it", source=source
        )
    body = tidy(escape_text(message.text))
    if not body:
        raise InvalidInput("the message has no text", source=source)
    return document_drafts(path, body, kind=kind, fields=fields, meta=meta, source=source)


def clean_subject(subject: str) -> str:
    """The subject without reply and forward prefixes (``Re: RE: 転送: …``)."""
    text = " ".join(subject.split())
    while (stripped := _PREFIX.sub("", text, count=1)) != text:
        text = stripped
    return text.strip()


def split_reply(text: str) -> tuple[str, str]:
    """A reply's own text and the quoted original below it (``> `` marks removed)."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if _QUOTE_START.match(line.strip()):
            own = "\n".join(lines[:index]).strip()
            quoted = "\n".join(re.sub(r"^>\s?", "", ln) for ln in lines[index:] if not _is_header(ln)).strip()
            return own, quoted
    return text.strip(), ""


def _is_header(line: str) -> bool:
    return (
        bool(re.match(r"^\s*(?:from|sent|to|cc|subject|date|差出人|送信日時|宛先|件名)\s*[:：]", line, re.I))
        or bool(re.match(r"^-{2,}", line.strip()))
        or bool(re.match(r"^on .+ wrote:|.+(?:wrote|書きました)\s*[:：]\s*$", line.strip(), re.I))
    )


def read_eml(data: bytes, source: str) -> Message:
    """A message in RFC 822 form, as any mail program saves it, with its MIME parts decoded."""
    head = data[:4096]
    if b":" not in head or data.startswith((b"PK", b"\xd0\xcf\x11\xe0", b"%PDF")):
        raise InvalidInput("not a mail message (.eml): it has no mail headers", source=source)
    try:
        parsed = email.message_from_bytes(data, policy=email.policy.default)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        raise InvalidInput(f"not a readable mail message: {exc}", source=source) from None
    assert isinstance(parsed, EmailMessage)
    if not parsed.keys() or (parsed.get("subject") is None and parsed.get("from") is None):
        raise InvalidInput("not a mail message (.eml): it has no Subject or From header", source=source)
    try:
        return Message(
            subject=str(parsed.get("subject", "") or ""),
            sender=str(parsed.get("from", "") or ""),
            date=_date(parsed.get("date")),
            text=_body_text(parsed),
            attachments=_attachments(parsed),
        )
    except (ValueError, TypeError, LookupError, AttributeError) as exc:
        raise InvalidInput(f"cannot read the message's parts: {exc}", source=source) from None


def _attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    """Name and bytes of each attached file; a forwarded message (``message/rfc822``) as an .eml of its own."""
    out: list[tuple[str, bytes]] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage) or part.get_content_maintype() == "multipart":
            continue
        if len(out) == MAX_ATTACHMENTS:  # stop at the limit rather than decode thousands of parts
            raise ValueError(f"the message has more than {MAX_ATTACHMENTS} attachments")
        name = part.get_filename() or ""
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            data = inner.as_bytes() if isinstance(inner, EmailMessage) else b""
            out.append((name or f"{clean_subject(str(inner.get('subject', '') or '')) or 'forwarded'}.eml", data))
        else:
            payload = part.get_payload(decode=True)
            out.append((name, payload if isinstance(payload, bytes) else b""))
    return out


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        return html_text(text)
    return text


def html_text(html: str) -> str:
    """The text of an HTML mail body, one block per line."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    return "\n".join(line.strip() for line in soup.get_text("\n").splitlines())


def _date(value: object) -> dt.date | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value)).date()
    except (ValueError, TypeError):
        return None
