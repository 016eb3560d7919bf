"""What every `kb` command shares: consoles, options, progress bars, domain-error handling."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app import maintenance
from app.caller import Caller
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.errors import KbError, NotFound
from kb.identity.access import Principal
from kb.record.models import Role

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: KB_DATA_DIR or ./kb-data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a ``KbError`` as one clear line and exit 1 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KbError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
            raise typer.Exit(1) from exc

    return wrapper


def settings_for(data_dir: Path | None, *, create: bool = False) -> Settings:
    """The settings for ``--data-dir`` (or ``KB_DATA_DIR``); a data dir that does not exist is an error unless
    the command makes one (``create``: demo, ingest, import, restore, ``serve --init``).

    Without the check, `kb` run from another folder silently made an empty ``./kb-data`` and reported
    success on it (``kb stats``: 0 documents; ``kb user add``: a user nobody's server sees).
    """
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    if not create and settings.database_url is None and not settings.data_dir.exists():
        raise NotFound(
            f"there is no data dir at {settings.data_dir.resolve()}: nothing has been stored there. "
            "Point --data-dir (or KB_DATA_DIR) at your data dir, or create one with `kb demo`, "
            "`kb ingest FOLDER` or `kb serve --init`."
        )
    return settings


def local_caller() -> Caller:
    """Whoever can run ``kb`` on the data dir owns the data: a PMO admin, named ``cli:<os user>`` in the audit log."""
    try:
        login = "cli:" + getpass.getuser()
    except (KeyError, OSError):
        login = "cli"
    return Caller.local(Principal(login, Role.pmo_admin, via="cli"))


def framed(lines: list[str]) -> str:
    """``lines`` in a box of ``=`` rules, so one message stands out at the end of long install output."""
    rule = "=" * max(60, *(len(line) for line in lines))
    return "\n".join(["", rule, *lines, rule, ""])


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def kb_for(data_dir: Path | None, *, create: bool = False) -> Iterator[KnowledgeBase]:
    """The knowledge base of a data dir; its search core (the embedder: about a second) loads on first use."""
    kb = KnowledgeBase.open(settings_for(data_dir, create=create))
    try:
        yield kb
    finally:
        kb.close()


def progress_bar(label: str, *, quiet: bool = False) -> Progress:
    """A progress bar on stderr, hidden for JSON output and when stderr is not a terminal."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    )


def index_with_progress(kb: KnowledgeBase, *, quiet: bool = False) -> int:
    """Catch the indexes up with the store, showing progress; return documents re-indexed."""
    with progress_bar("index", quiet=quiet) as progress:
        task = progress.add_task("index", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return maintenance.catch_up(kb, on_progress=on_progress)
