"""Binary Word and PowerPoint files (.doc, .ppt, 97–2003): refused with what to do instead.

No maintained library reads these in Python, and the one maintained converter
(LibreOffice, from Debian) is a separate program of several hundred megabytes
that would run outside the per-file time and memory budget (``ingest.budget``)
every other reader works under. So each such file fails alone with the fix a
user can make in a minute: open it and save it as .docx or .pptx. (Excel's
.xls is read: xlrd is a library made for it, see ``ingest.spreadsheet``.)
A .docx or .pptx that was only renamed is told apart and named as such.
"""

from __future__ import annotations

from pathlib import Path

from ingest.office import OLE_MAGIC
from ingest.options import DEFAULT_OPTIONS, IngestOptions
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft

_MODERN = {".doc": ".docx", ".ppt": ".pptx", ".dot": ".dotx", ".pps": ".ppsx", ".pot": ".potx"}
_PROGRAM = {".doc": "Word", ".dot": "Word", ".ppt": "PowerPoint", ".pps": "PowerPoint", ".pot": "PowerPoint"}


class LegacyOfficeIngester:
    """``.doc`` and ``.ppt`` files: each fails with a message that says to save it in the current format."""

    format: str = "legacy_office"
    extensions: tuple[str, ...] = tuple(_MODERN)

    def parse(
        self, path: Path, data: bytes, *, source: str, options: IngestOptions = DEFAULT_OPTIONS
    ) -> list[DocumentDraft]:
        suffix = path.suffix.lower()
        modern = _MODERN[suffix]
        if data.startswith(b"PK"):
            raise InvalidInput(f"this is a {modern} file named {suffix}: rename it to {modern}", source=source)
        if not data.startswith(OLE_MAGIC):
            raise InvalidInput(
                f"not a {_PROGRAM[suffix]} {suffix} file (damaged, or another format renamed)", source=source
            )
        raise InvalidInput(
            f"old binary {_PROGRAM[suffix]} files ({suffix}, 97–2003) cannot be read: open it in "
            f"{_PROGRAM[suffix]} (or LibreOffice) and save it as {modern}, then ingest that",
            source=source,
        )
