"""Which files a batch reads: the folder walk, its symbolic-link policy, and reading without following links.

A folder someone asks to ingest is a boundary. A symbolic link inside it can
point anywhere (``in/link.md -> ../outside/secret.md``, ``-> /etc/passwd``), so
a walk never follows a link out of the folder it was given, and by default
follows no link at all: each link found is reported as a failed file named by
the link's own path, never by where it points (that would disclose the
target). With ``follow_links`` a link whose target lies inside the same folder
is read under the link's name, and a linked folder inside it is walked once:
a link back to a folder already walked (a loop) is refused.

A file named on the command line gets the same rule, its own folder being the
boundary: a shell glob (``kb ingest in/*.md``) names every link in a folder as
surely as a walk finds it. A folder named on the command line may itself be a
link (a data folder mounted elsewhere): it is resolved and is the boundary.
Files are opened with ``O_NOFOLLOW``, so a file swapped for a link between the
walk and the read is refused too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InvalidInput

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; Windows has no symlinks to worry about here
_HINT = "ingest the file it points to, or pass --follow-links to read links that stay inside the folder"


@dataclass(frozen=True)
class Found:
    """One file of a batch.

    ``path`` is its name in the report and its source (a link's own path);
    ``target`` is the file to open when that is another one (an allowed link);
    ``refused`` is why a link is not read, which fails the file.
    """

    path: Path
    named: bool
    target: Path | None = None
    refused: str | None = None


def discover(paths: Iterable[Path], *, follow_links: bool = False) -> Iterator[Found]:
    """Files to ingest, in a stable order (by path, as ``sorted(rglob)`` gives).

    Hidden files and folders (``.git``, ``.DS_Store``) and Office lock files
    (``~$name.docx``) are passed over, and so are sockets, pipes and devices.
    """
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            yield from _walk(root, root, {root}, follow_links)
        else:
            named = named_path(path)
            if named.is_symlink():
                yield from _link(named, named.parent, {named.parent}, follow_links, named=True)
            else:
                yield Found(named, True)


def named_path(path: Path) -> Path:
    """The absolute path of a file the user named, its folders resolved but not the file itself.

    Resolving the folders keeps the source the same as a walk of that folder
    gives; keeping the last part keeps a link's own name in reports.
    """
    absolute = path.absolute()
    return absolute.parent.resolve() / absolute.name


def _walk(folder: Path, root: Path, walked: set[Path], follow_links: bool) -> Iterator[Found]:
    """Depth first, entries sorted by name; ``walked`` holds the real folders already entered."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:  # a folder we may not list fails as itself; the rest of the walk goes on
        yield Found(folder, False, refused=f"cannot list this folder: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.name.startswith((".", "~$")):
            continue
        path = folder / entry.name
        if entry.is_symlink():
            yield from _link(path, root, walked, follow_links)
        elif entry.is_dir(follow_symlinks=False):
            walked.add(path)
            yield from _walk(path, root, walked, follow_links)
        elif entry.is_file(follow_symlinks=False):
            yield Found(path, False)


def _link(path: Path, root: Path, walked: set[Path], follow_links: bool, *, named: bool = False) -> Iterator[Found]:
    """A link: followed only when allowed and inside ``root``, else one refused entry named by the link."""
    if not follow_links:
        yield Found(path, named, refused=f"is a symbolic link, and links are not followed: {_HINT}")
        return
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's "Symlink loop"
        yield Found(path, named, refused="is a symbolic link that leads nowhere (its target is missing, or a loop)")
        return
    if not target.is_relative_to(root):
        yield Found(path, named, refused="is a symbolic link out of the folder being ingested: refused")
    elif target.is_dir():
        if target in walked:
            yield Found(path, named, refused="is a symbolic link to a folder this walk already covers (a loop)")
        else:
            walked.add(target)
            yield from _walk_as(path, target, root, walked)
    elif target.is_file():
        yield Found(path, named, target=target)
    else:
        yield Found(path, named, refused="is a symbolic link to something that is not a file")


def _walk_as(path: Path, target: Path, root: Path, walked: set[Path]) -> Iterator[Found]:
    """Walk the linked folder ``target``, naming its files under the link ``path``."""
    for found in _walk(target, root, walked, True):
        renamed = path / found.path.relative_to(target)
        yield Found(renamed, False, target=found.target or found.path, refused=found.refused)


def read_found(found: Found, *, max_file_bytes: int) -> bytes:
    """The file's bytes; ``InvalidInput`` (named by ``found.path``) when it is missing, not a file or too big.

    The size is checked on the open file before reading, so a huge file is never loaded.
    The file is opened without following links: an allowed link is opened by its resolved target.
    """
    source = str(found.path)
    flags = os.O_RDONLY | _NOFOLLOW
    try:
        fd = os.open(found.target or found.path, flags)
    except FileNotFoundError:
        raise InvalidInput("no such file", source=source) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror or exc}", source=source) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput("not a regular file", source=source)
        if info.st_size > max_file_bytes:
            raise InvalidInput(too_big(info.st_size, max_file_bytes), source=source)
        data = file.read(max_file_bytes + 1)
    if len(data) > max_file_bytes:  # grew while we read it
        raise InvalidInput(too_big(len(data), max_file_bytes), source=source)
    return data


def too_big(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, over the limit of {limit:,} (setting KB_MAX_FILE_BYTES)"
