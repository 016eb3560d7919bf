"""Serving original files safely: always as a download, never rendered by the browser."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from kb.record.models import Attachment


def original_response(attachment: Attachment) -> Response:
    """The original file with ``Content-Disposition: attachment`` and ``nosniff``.

    Forcing a download (and a sandboxing CSP) means an HTML or SVG original
    cannot run script in the reader's browser under this site's origin.
    ``app.documents.original`` has checked that the reader may see it.
    """
    ascii_name = attachment.filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(attachment.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    return Response(attachment.data, media_type=attachment.media_type or "application/octet-stream", headers=headers)
