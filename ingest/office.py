"""Checks on Office Open XML packages (.xlsx, .docx) before a library reads them.

A .docx or .xlsx is a zip package. Three things arrive in its place and each
deserves its own message rather than a library's stack trace: a
password-protected file (Office then writes an OLE compound file holding an
``EncryptedPackage`` stream, not a zip), an old binary .doc/.xls renamed, and
a truncated or damaged zip.

A package is also checked against "zip bombs" before any library unpacks it,
from the sizes in its central directory: too many parts, too much in all, or
one big part packed far tighter than XML ever packs. Those sizes can lie, but
Python's zip reader never unpacks a part past its declared size (it stops and
fails the CRC check), and ``testzip`` below reads every part that way; so the
declared sizes bound what python-docx and openpyxl can be made to hold.

The XML inside is safe from entity tricks without help from here: python-docx
and openpyxl parse with lxml's ``resolve_entities=False`` (no external entities,
no expansion) and libxml2 caps entity amplification; openpyxl reads worksheets
with expat, which refuses amplification ("billion laughs") since 2.4.
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
# A .docx holds a few dozen parts, a workbook with images a few hundred.
MAX_PARTS = 10_000
# How tightly a big part may be packed. Measured: a sheet of 200,000 rows packs
# 18 to 1, and even one paragraph repeated 50,000 times in Word 280 to 1; deflate
# tops out near 1,030 to 1, which only a bomb's filler reaches. Small parts are
# not checked. A bomb packed looser than this is bounded by MAX_UNPACKED_BYTES
# and, while it is parsed, by the per-file memory budget (``ingest.budget``).
MAX_PART_RATIO = 500
RATIO_CHECKED_BYTES = 10 * 1024 * 1024


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
            _check_sizes(package.infolist(), source)
            damaged = package.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise InvalidInput(f"the file is damaged or truncated: {exc}", source=source) from None
    if damaged is not None:
        raise InvalidInput(f"the file is damaged or truncated: part {damaged} is corrupt", source=source)


def _check_sizes(members: list[zipfile.ZipInfo], source: str) -> None:
    """Refuse a package whose central directory describes a zip bomb (see the module docstring)."""
    if len(members) > MAX_PARTS:
        raise InvalidInput(f"the package holds {len(members):,} parts, over the limit of {MAX_PARTS:,}", source=source)
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise InvalidInput(
            f"the package unpacks to {unpacked:,} bytes, over the limit of {MAX_UNPACKED_BYTES:,}", source=source
        )
    for member in members:
        if member.file_size > RATIO_CHECKED_BYTES and member.file_size > MAX_PART_RATIO * member.compress_size:
            raise InvalidInput(
                f"part {member.filename} unpacks to {member.file_size:,} bytes from {member.compress_size:,} "
                f"(over {MAX_PART_RATIO} to 1): no real document packs that tightly, so it is refused as a zip bomb",
                source=source,
            )
