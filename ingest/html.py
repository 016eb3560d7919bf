"""HTML pages, single or from Confluence and Notion export folders, as Markdown documents.

A page keeps what a reader came for (headings, paragraphs, lists, tables,
links to the web) and loses everything else: scripts, styles, forms, frames,
navigation, headers, footers, sidebars and the exporters' chrome (Confluence
breadcrumbs, page metadata and attachment boxes; Notion's cover and icon). No
HTML survives: the body is Markdown in which every ``<`` from the page is
escaped, checked once more at the end (``markup.without_html``).

Export folders: each ``.html`` page is a document (the pipeline walks the
folder). Confluence breadcrumbs are kept in ``meta.breadcrumbs`` and name the
kind when one of them is a kind's name ("Procedures", "手順書"); Notion
property tables fill fields through the same column aliases as spreadsheets
(Owner, Tags, Date, ステータス …). Links and images that point at files of the
export are resolved to those files and listed in ``meta.attachments``
(``name``, ``path``, ``found``); files a page links to are ingested on their
own when their format is supported (a template's .docx next to its page).
Only files inside the page's own folder are resolved.

Nesting is measured before the page is built into a tree (``MAX_HTML_DEPTH``):
a page of 100,000 nested ``<div>`` took a minute to build with BeautifulSoup
and then overflowed the stack in markdownify, which recurses once per level.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag
from lxml import etree
from markdownify import MarkdownConverter

from ingest.columns import ALIASES, fold_header
from ingest.kinds import kind_from_names, require_kind
from ingest.markdown import document_drafts
from ingest.markup import escape_text, tidy, without_html
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from ingest.reading import decode_text
from ingest.rows import read_value
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft, OriginalFile

# Elements that never hold content a reader wants; removed with everything inside them.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
    "form", "button", "input", "select", "textarea", "svg", "canvas", "nav", "header", "footer", "aside",
    "link", "meta", "base", "title", "dialog", "audio", "video",
)  # fmt: skip
# Exporters' chrome, by CSS selector (Confluence, Notion, common wiki themes).
_DROP_SELECTORS = (
    "[role=navigation]", "[role=banner]", "[role=contentinfo]", "[hidden]", "[aria-hidden=true]",
    "#breadcrumb-section", "#main-header", "#footer", ".page-metadata", ".pageSection", "#comments-section",
    ".toc-macro", ".page-cover-image", ".page-header-icon", ".breadcrumbs", ".sidebar",
)  # fmt: skip
_CONTENT_SELECTORS = ("#main-content", "article .page-body", "main", "article", "[role=main]", "#content", "body")
_SAFE_SCHEMES = ("http", "https", "mailto")
_PLAIN_URL = re.compile(r"[^\s()<>]+")  # a link target that needs no <…> around it
# Real pages nest a few dozen elements deep; markdownify overflows Python's
# stack at about 350 levels. libxml2's HTML parser itself stops nesting at 256.
MAX_HTML_DEPTH = 200
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


class HtmlIngester:
    """``.html``/``.htm`` pages; the kind comes from Confluence breadcrumbs, ``--kind``,
    the folder, or the file name or title."""

    format: str = "html"
    extensions: tuple[str, ...] = (".html", ".htm")

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        text = _decode(data, source)
        _check_depth(text, source)
        soup = BeautifulSoup(text, "lxml")
        breadcrumbs = [_text(li) for li in soup.select("#breadcrumbs li") if _text(li)]
        title = _title(soup, breadcrumbs)
        fields: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        if breadcrumbs:
            meta["breadcrumbs"] = breadcrumbs
        _properties(soup, fields, meta, source)
        attachments = _Attachments(path)
        for link in soup.select(".pageSection a[href]"):  # Confluence's "Attachments:" box
            attachments.add(str(link.get("href")), _text(link))
        root = _content_root(soup)
        for tag in root.find_all(_DROP_TAGS):
            tag.decompose()
        for selector in _DROP_SELECTORS:
            for tag in root.select(selector):
                tag.decompose()
        first_h1 = root.find("h1")
        if isinstance(first_h1, Tag) and (not title or _text(first_h1) == title):
            title = title or _text(first_h1)
            first_h1.decompose()
        _shift_headings(root)
        body = without_html(tidy(_Converter(attachments).convert_soup(root)))
        if not body.strip():
            raise InvalidInput(
                "the page has no text after removing scripts, styles, navigation and page chrome", source=source
            )
        if attachments.found:
            meta["attachments"] = attachments.found
        fields["title"] = title or path.stem.replace("-", " ").replace("_", " ")
        kind = require_kind(path, kind_from_names(breadcrumbs), options.kind, source=source, title=fields["title"])
        original = OriginalFile(filename=path.name, media_type="text/html", data=data)
        return document_drafts(path, body, kind=kind, fields=fields, meta=meta, source=source, original=original)


def _decode(data: bytes, source: str) -> str:
    """The page's text: its declared charset when the bytes really are in it, else ``decode_text``'s detection."""
    declared = _CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower().replace("_", "-")
        encoding = {"shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932"}.get(name, name)
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common: fall back to detection
    return decode_text(data, source=source)


def _check_depth(text: str, source: str) -> None:
    """Refuse a page nested deeper than ``MAX_HTML_DEPTH``, counted by libxml2's streaming parser (milliseconds)."""
    depth = 0
    events = etree.iterparse(io.BytesIO(text.encode("utf-8")), events=("start", "end"), html=True, encoding="utf-8")
    try:
        for event, element in events:
            if event == "end":
                depth -= 1
                element.clear()  # keep memory flat on a long page
                continue
            depth += 1
            if depth > MAX_HTML_DEPTH:
                raise InvalidInput(
                    f"the page nests elements more than {MAX_HTML_DEPTH} deep (real pages nest a few dozen): "
                    "it cannot be read safely",
                    source=source,
                )
    except etree.LxmlError:
        return  # markup libxml2 cannot stream (an empty page): BeautifulSoup reads it or says why


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def _title(soup: BeautifulSoup, breadcrumbs: list[str]) -> str:
    """Confluence's title (without its "Space : " prefix), Notion's, else ``<title>``; empty if none."""
    for selector in ("#title-text", "h1.page-title"):
        found = soup.select_one(selector)
        if found is not None and _text(found):
            title = _text(found)
            if breadcrumbs and title.startswith(breadcrumbs[0] + " : "):
                title = title[len(breadcrumbs[0]) + 3 :]
            return title
    return _text(soup.title) if soup.title is not None else ""


def _properties(soup: BeautifulSoup, fields: dict[str, Any], meta: dict[str, Any], source: str) -> None:
    """Notion's property table (``table.properties``): known names become fields, others ``meta``."""
    for row in soup.select("table.properties tr"):
        name_cell, value_cell = row.find("th"), row.find("td")
        if not isinstance(name_cell, Tag) or not isinstance(value_cell, Tag):
            continue
        name = _text(name_cell)
        target = ALIASES.get(fold_header(name))
        if target == "tags" or value_cell.select("span.selected-value"):
            value: object = [_text(v) for v in value_cell.select("span.selected-value")] or _text(value_cell)
        else:
            value = _text(value_cell)
        if not value:
            continue
        if target is None or target in ("meta", "id", "ignore", "kind", "abstract"):
            meta[name] = value
            continue
        try:
            read_value(fields, target, value, value if isinstance(value, str) else "")
        except ValueError as exc:
            raise InvalidInput(str(exc), source=source, place=f"property {name!r}") from None


def _content_root(soup: BeautifulSoup) -> Tag:
    for selector in _CONTENT_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return soup


def _shift_headings(root: Tag) -> None:
    """Renumber headings so the top one is ``h2``: the title is the document's only level-1 heading."""
    headings = root.find_all(re.compile(r"^h[1-6]$"))
    if not headings:
        return
    shift = max(0, 2 - min(int(h.name[1]) for h in headings))
    for heading in headings:
        heading.name = f"h{min(6, int(heading.name[1]) + shift)}"


class _Attachments:
    """Files of the export that a page links to, resolved inside the page's folder."""

    def __init__(self, page: Path) -> None:
        self.folder = page.parent.resolve()
        self.found: list[dict[str, Any]] = []

    def add(self, href: str, name: str) -> bool:
        """Record ``href`` when it is a relative link to a file that is not a page; True if recorded."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path or parts.path.lower().endswith((".html", ".htm")):
            return False
        target = (self.folder / unquote(parts.path)).resolve()
        if not target.is_relative_to(self.folder):
            return False
        if all(a["path"] != str(target) for a in self.found):
            self.found.append({"name": name or target.name, "path": str(target), "found": target.is_file()})
        return True


class _Converter(MarkdownConverter):
    """markdownify with text escaped (no raw HTML), safe links only, and attachments resolved."""

    def __init__(self, attachments: _Attachments) -> None:
        super().__init__(heading_style="ATX", bullets="-", table_infer_header=True, escape_misc=False)
        self.attachments = attachments

    def escape(self, text: str, parent_tags: Any) -> str:
        return escape_text(text).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")

    def convert_a(self, el: Tag, text: str, parent_tags: Any) -> str:
        href = str(el.get("href") or "")
        scheme = urlsplit(href).scheme.lower()
        if scheme in _SAFE_SCHEMES and text.strip() and "_noformat" not in parent_tags:
            target = href if _PLAIN_URL.fullmatch(href) else "<" + href.replace("<", "%3C").replace(">", "%3E") + ">"
            return f"[{text.strip()}]({target})"
        if not scheme:
            self.attachments.add(href, text.strip())
        return text

    def convert_img(self, el: Tag, text: str, parent_tags: Any) -> str:
        src = str(el.get("src") or "")
        alt = " ".join(str(el.get("alt") or "").split())
        if not urlsplit(src).scheme:
            self.attachments.add(src, alt)
        return self.escape(alt, parent_tags)
