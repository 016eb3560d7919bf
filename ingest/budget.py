"""A per-file time and memory budget for parsing, so one pathological file fails alone.

Each ingester already refuses the hostile inputs we know of (alias bombs, zip
and XML bombs, deep nesting); the budget is the backstop for the ones we do
not. Only the parse step runs under it, in a worker process: bytes go in,
document drafts (or an ``InvalidInput``) come back, as do a mail's attached
files when the pipeline unpacks them, and the database write
stays in the calling process, so a killed worker can never leave a half-written
transaction. A file that runs past ``seconds`` has its worker killed; a parse
that tries to allocate past ``memory_mb`` gets ``MemoryError`` (the worker's
address space is capped with ``RLIMIT_AS``). Either way the file fails with a
message naming the setting, the worker is replaced, and the batch goes on.

One worker serves a whole batch, so the cost per file is a round trip through
a pipe (the bytes in, the drafts out), not a process start. Workers are forked
from a ``forkserver`` that has imported the ingesters once: forking the caller
itself would copy a web server's threads and locks into the child. As with any
multiprocessing start method but ``fork``, a worker imports the caller's main
script again (``kb``, ``uvicorn``, ``pytest``: all guarded by ``__main__``);
that is most of a replacement worker's 40 ms start.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from ingest.options import IngestOptions
from ingest.registry import Attached, Container, Ingester
from kb.config import Settings
from kb.errors import InvalidInput
from kb.record.models import DocumentDraft

_MB = 1024 * 1024


@dataclass(frozen=True)
class FileBudget:
    """Wall-clock seconds and megabytes (beyond the worker's own baseline) one file's parse may use."""

    seconds: float
    memory_mb: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FileBudget:
        return cls(seconds=settings.ingest_file_seconds, memory_mb=settings.ingest_file_memory_mb)


class Parser(Protocol):
    """Runs an ingester on one file's bytes: in this process, or in a worker under a budget.

    ``unpack`` takes the files out of a container (a mail's attachments) under
    the same budget as a parse, so a hostile message is never read unguarded.
    """

    def parse(
        self, ingester: Ingester, path: Path, data: bytes, *, source: str, options: IngestOptions
    ) -> list[DocumentDraft]: ...

    def unpack(self, container: Container, path: Path, data: bytes, *, source: str) -> list[Attached]: ...


def parse_guarded(
    ingester: Ingester, path: Path, data: bytes, *, source: str, options: IngestOptions
) -> list[DocumentDraft]:
    """``ingester.parse``, with nesting too deep for Python's stack reported as the file's error.

    Parsers recurse over nested structure (JSON arrays, HTML elements, PDF
    objects); a file nested thousands deep exhausts the stack in whichever one
    has no cap of its own, which is the file's fault, not a bug.
    """
    try:
        return ingester.parse(path, data, source=source, options=options)
    except RecursionError:
        raise InvalidInput(_TOO_DEEP, source=source) from None


def unpack_guarded(container: Container, path: Path, data: bytes, *, source: str) -> list[Attached]:
    """``container.attachments``, with nesting too deep for the stack reported as for ``parse_guarded``."""
    try:
        return container.attachments(path, data, source=source)
    except RecursionError:
        raise InvalidInput(_TOO_DEEP, source=source) from None


_TOO_DEEP = "the file is nested too deeply to read (thousands of levels)"


class InProcess:
    """Parses in the calling process with no budget: for tests and trusted callers."""

    def parse(
        self, ingester: Ingester, path: Path, data: bytes, *, source: str, options: IngestOptions
    ) -> list[DocumentDraft]:
        return parse_guarded(ingester, path, data, source=source, options=options)

    def unpack(self, container: Container, path: Path, data: bytes, *, source: str) -> list[Attached]:
        return unpack_guarded(container, path, data, source=source)


IN_PROCESS = InProcess()


class Budgeted:
    """Parses each file in a worker process under ``budget``; use as a context manager to stop the worker."""

    def __init__(self, budget: FileBudget) -> None:
        self.budget = budget
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def parse(
        self, ingester: Ingester, path: Path, data: bytes, *, source: str, options: IngestOptions
    ) -> list[DocumentDraft]:
        drafts: list[DocumentDraft] = self._run(("parse", ingester, path, data, source, options), source)
        return drafts

    def unpack(self, container: Container, path: Path, data: bytes, *, source: str) -> list[Attached]:
        files: list[Attached] = self._run(("unpack", container, path, data, source, None), source)
        return files

    def _run(self, job: tuple[Any, ...], source: str) -> Any:
        """Send one job to the worker; its result, or the ``InvalidInput`` it raised or the budget caused."""
        conn = self._conn or self._start()
        try:
            conn.send(job)
            finished = conn.poll(self.budget.seconds)
        except OSError:  # the worker is gone (killed from outside): the next file gets a new one
            finished = True
        if not finished:
            self._stop(kill=True)
            raise InvalidInput(
                f"reading the file took longer than {self.budget.seconds:g} s, so it was stopped "
                "(setting KB_INGEST_FILE_SECONDS): it is too large or built to exhaust the parser",
                source=source,
            )
        try:
            outcome, value = conn.recv()
        except (EOFError, OSError):
            code = self._stop(kill=True)
            raise InvalidInput(
                f"the worker reading the file died (exit code {code}); it may need more memory than "
                f"{self.budget.memory_mb} MB (setting KB_INGEST_FILE_MEMORY_MB)",
                source=source,
            ) from None
        if outcome == "ok":
            return value
        if outcome == "invalid":
            error: InvalidInput = value  # pickled whole: source, line, place and message as raised
            raise error
        if outcome == "memory":
            self._stop(kill=True)  # a fresh worker for the next file: this one's heap may be fragmented
            raise InvalidInput(
                f"reading the file needed more than {self.budget.memory_mb} MB, so it was stopped "
                "(setting KB_INGEST_FILE_MEMORY_MB): it is too large or built to exhaust the parser",
                source=source,
            )
        raise RuntimeError(f"parsing {source} failed in the ingest worker:\n{value}")  # a bug, as in-process

    def close(self) -> None:
        self._stop(kill=False)

    def __enter__(self) -> Budgeted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Connection:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ingest.registry"])  # imported once, in the server every worker forks from
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, self.budget.memory_mb * _MB), name="kb-ingest-worker", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        return ours

    def _stop(self, *, kill: bool) -> int | None:
        """Stop the worker (politely unless ``kill``); return its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is None or conn is None:
            return None
        if not kill:
            with contextlib.suppress(OSError):
                conn.send(None)
            process.join(timeout=5)
        if process.is_alive():
            process.kill()
        process.join()
        conn.close()
        code = process.exitcode
        process.close()
        return code


@contextlib.contextmanager
def open_parser(budget: FileBudget | None) -> Iterator[Parser]:
    """A ``Budgeted`` parser for ``budget``, stopped on exit; ``IN_PROCESS`` when there is none."""
    if budget is None:
        yield IN_PROCESS
        return
    with Budgeted(budget) as parser:
        yield parser


def _serve(conn: Connection, memory_bytes: int) -> None:
    """The worker: parse jobs until told to stop (``None``) or the parent goes away."""
    _cap_memory(memory_bytes)
    while True:
        try:
            job: Any = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        call, ingester, path, data, source, options = job
        try:
            if call == "unpack":
                conn.send(("ok", unpack_guarded(ingester, path, data, source=source)))
            else:
                conn.send(("ok", parse_guarded(ingester, path, data, source=source, options=options)))
        except InvalidInput as exc:
            conn.send(("invalid", exc))
        except MemoryError:
            del data, job
            conn.send(("memory", None))
            return
        except Exception:  # a bug in a parser: sent back whole so the parent raises it as it would in-process
            conn.send(("error", traceback.format_exc()))


def _cap_memory(memory_bytes: int) -> None:
    """Cap the address space at what the worker already maps plus ``memory_bytes``.

    The baseline (interpreter and ingest libraries, a few hundred MB of mostly
    shared virtual memory) is read from ``/proc/self/statm``; without ``/proc``
    (not Linux) the worker runs with the time budget only.
    """
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    limit = pages * resource.getpagesize() + memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
