"""Checks on Office Open XML packages (.xlsx, .docx) before a library reads them.

A .docx or .xlsx is a zip package. Three things arrive in its place and each
deserves its own message rather than a library's stack trace: a
password-protected file (Office then writes an OLE compound file holding an
``EncryptedPackage`` stream, not a zip), an old binary .doc/.xls renamed, and
a truncated or damaged zip. A zip whose contents unpack to far more than any
real document is refused too, so a small "zip bomb" cannot exhaust memory.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from kb.errors import InvalidInput

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")

# Real workbooks and documents unpack to a few times their size; 512 MiB is far
# beyond any of them and still safe to decompress on a small machine.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024


def check_package(data: bytes, *, source: str, suffix: str) -> None:
    """Raise ``InvalidInput`` unless ``data`` is an intact, unencrypted zip package."""
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise InvalidInput(
                "the file is password-protected (encrypted): save a copy without a password and ingest that",
                source=source,
            )
        raise InvalidInput(
            f"this is an old binary Office file (.doc/.xls), not {suffix}: open it and save it as {suffix}",
            source=source,
        )
    if not data.startswith(b"PK"):
        raise InvalidInput(
            f"not a {suffix} file: it is not a zip package (damaged, or another format renamed)", source=source
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
            unpacked = sum(m.file_size for m in members)
            if unpacked > MAX_UNPACKED_BYTES:
                raise InvalidInput(
                    f"the package unpacks to {unpacked:,} bytes, over the limit of {MAX_UNPACKED_BYTES:,}",
                    source=source,
                )
            damaged = package.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise InvalidInput(f"the file is damaged or truncated: {exc}", source=source) from None
    if damaged is not None:
        raise InvalidInput(f"the file is damaged or truncated: part {damaged} is corrupt", source=source)
