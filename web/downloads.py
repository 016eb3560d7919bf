"""Serving files safely: always as a download, never rendered by the browser."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote

from fastapi.responses import Response

from kb.record.models import Attachment


def attachment_headers(filename: str) -> dict[str, str]:
    """``Content-Disposition: attachment`` naming ``filename`` for every browser, with ``nosniff`` and a sandbox.

    ``filename*`` (RFC 5987: UTF-8, percent-encoded) carries a Japanese name
    whole; the plain ``filename`` is the fallback for clients that ignore it,
    so it is the name itself when that is plain ASCII, else ``download`` with the extension.
    """
    plain = filename.isascii() and filename.isprintable() and not any(c in filename for c in '"\\;%')
    fallback = filename if plain else "download" + PurePosixPath(filename).suffix.encode("ascii", "ignore").decode()
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }


def original_response(attachment: Attachment) -> Response:
    """The original file with ``Content-Disposition: attachment`` and ``nosniff``.

    Forcing a download (and a sandboxing CSP) means an HTML or SVG original
    cannot run script in the reader's browser under this site's origin.
    ``app.documents.original`` has checked that the reader may see it.
    """
    media_type = attachment.media_type or "application/octet-stream"
    return Response(attachment.data, media_type=media_type, headers=attachment_headers(attachment.filename))


def file_response(filename: str, data: bytes, media_type: str) -> Response:
    """A file made for the reader (a template as Word), served like an original: as a download."""
    return Response(data, media_type=media_type, headers=attachment_headers(filename))
