"""Outlook ``.msg`` files: an OLE compound file of MAPI property streams, read with olefile.

Only the streams that say what a message says are read: subject
(``0037``), sender name (``0C1A``), plain-text body (``1000``), HTML body
(``1013``) when there is no plain one, the submit time from the property
stream, and each attachment's file name (``3707``/``3704``) and data
(``3701``). Strings are UTF-16 (type ``001F``) or 8-bit (``001E``, the
message's code page: Japanese Outlook writes CP932).
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import TYPE_CHECKING

import olefile

from ingest.office import OLE_MAGIC
from kb.errors import InvalidInput

if TYPE_CHECKING:
    from ingest.mail import Message

_SUBJECT, _SENDER, _BODY, _HTML = "0037", "0C1A", "1000", "1013"
_ATTACH_DATA, _ATTACH_LONG_NAME, _ATTACH_NAME = "3701", "3707", "3704"
_SUBMIT_TIME = 0x0039
MAX_ATTACHMENTS = 200


def read_msg(data: bytes, source: str) -> Message:
    """The message in an Outlook .msg file; ``InvalidInput`` when it is not one or is damaged."""
    from ingest.mail import Message, html_text

    if not data.startswith(OLE_MAGIC):
        raise InvalidInput(
            "not an Outlook message (.msg): it is not an OLE compound file (damaged, or another format renamed; "
            "save the mail as .msg from Outlook, or as .eml)",
            source=source,
        )
    try:
        ole = olefile.OleFileIO(data)
    except (OSError, ValueError, IndexError, struct.error, RecursionError) as exc:
        raise InvalidInput(f"not a readable .msg file (damaged?): {exc}", source=source) from None
    try:
        if not any(s[0].startswith("__substg1.0_") for s in ole.listdir()):
            raise InvalidInput(
                "not an Outlook message (.msg): the file is an OLE compound file (an old Office document?) "
                "without message properties",
                source=source,
            )
        text = _string(ole, "", _BODY, source)
        if not text.strip():
            html = _binary(ole, f"__substg1.0_{_HTML}0102")
            text = html_text(html.decode("utf-8", "replace")) if html else ""
        return Message(
            subject=_string(ole, "", _SUBJECT, source),
            sender=_string(ole, "", _SENDER, source),
            date=_submitted(ole),
            text=text,
            attachments=_attachments(ole, source),
        )
    except (OSError, ValueError, IndexError, struct.error) as exc:
        raise InvalidInput(f"not a readable .msg file (damaged?): {exc}", source=source) from None
    finally:
        ole.close()


def _string(ole: olefile.OleFileIO, storage: str, prop: str, source: str) -> str:
    unicode = _binary(ole, f"{storage}__substg1.0_{prop}001F")
    if unicode is not None:
        return unicode.decode("utf-16-le", "replace").rstrip("\x00")
    narrow = _binary(ole, f"{storage}__substg1.0_{prop}001E")
    if narrow is None:
        return ""
    narrow = narrow.rstrip(b"\x00")
    for encoding in ("utf-8", "cp932", "cp1252"):
        try:
            return narrow.decode(encoding)
        except UnicodeDecodeError:
            continue
    return narrow.decode("latin-1")


def _binary(ole: olefile.OleFileIO, name: str) -> bytes | None:
    if not ole.exists(name):
        return None
    stream = ole.openstream(name)
    try:
        data: bytes = stream.read()
        return data
    finally:
        stream.close()


def _submitted(ole: olefile.OleFileIO) -> dt.date | None:
    """The submit time from the top-level property stream (a 32-byte header, then 16-byte entries)."""
    props = _binary(ole, "__properties_version1.0")
    if not props:
        return None
    for offset in range(32, len(props) - 15, 16):
        tag, _flags, value = struct.unpack_from("<IIQ", props, offset)
        if tag >> 16 == _SUBMIT_TIME and tag & 0xFFFF == 0x0040 and value:
            try:
                return (dt.datetime(1601, 1, 1) + dt.timedelta(microseconds=value // 10)).date()
            except OverflowError:
                return None
    return None


def _attachments(ole: olefile.OleFileIO, source: str) -> list[tuple[str, bytes]]:
    storages = sorted({e[0] for e in ole.listdir() if e and e[0].startswith("__attach_version1.0_")})
    if len(storages) > MAX_ATTACHMENTS:
        raise InvalidInput(
            f"the message has {len(storages)} attachments, over the limit of {MAX_ATTACHMENTS}", source=source
        )
    out = []
    for storage in storages:
        prefix = storage + "/"
        name = _string(ole, prefix, _ATTACH_LONG_NAME, source) or _string(ole, prefix, _ATTACH_NAME, source)
        data = _binary(ole, f"{prefix}__substg1.0_{_ATTACH_DATA}0102") or b""
        out.append((name, data))
    return out
