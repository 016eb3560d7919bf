"""Atom feeds (RFC 4287) of one subscription's matches, built with the standard library's XML writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"


@dataclass
class Entry:
    id: str  # a stable URN for the notification
    title: str
    url: str
    summary: str
    updated: dt.datetime


def feed(*, feed_id: str, title: str, self_url: str, entries: Sequence[Entry], updated: dt.datetime) -> bytes:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(root, f"{{{ATOM}}}id").text = feed_id
    ET.SubElement(root, f"{{{ATOM}}}title").text = title
    ET.SubElement(root, f"{{{ATOM}}}updated").text = _stamp(updated)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=self_url)
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "PMO knowledge base"
    for e in entries:
        item = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(item, f"{{{ATOM}}}id").text = e.id
        ET.SubElement(item, f"{{{ATOM}}}title").text = e.title
        ET.SubElement(item, f"{{{ATOM}}}link", href=e.url)
        ET.SubElement(item, f"{{{ATOM}}}updated").text = _stamp(e.updated)
        ET.SubElement(item, f"{{{ATOM}}}summary").text = e.summary
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _stamp(at: dt.datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
