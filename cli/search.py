"""Search commands: search, reindex, eval."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from app import maintenance
from app import search as app_search
from cli.common import (
    AsJson,
    DataDir,
    domain_errors,
    err,
    index_with_progress,
    kb_for,
    local_caller,
    out,
    print_json,
    progress_bar,
    settings_for,
)
from kb.record.models import Kind
from kb.search.embedders.base import make_embedder
from kb.search.evaluation import evaluate
from kb.search.explain import in_words
from kb.search.searcher import Explanation, Filters, Hit, Mode, SearchResult

app = typer.Typer()

ModeOption = Annotated[str, typer.Option("--mode", help="hybrid (default), lexical or dense.")]
Many = Annotated[list[str] | None, typer.Option(help="Repeat to allow several values.")]


def _mode(value: str) -> Mode:
    if value not in ("hybrid", "lexical", "dense"):
        raise typer.BadParameter("use hybrid, lexical or dense", param_hint="--mode")
    return value  # type: ignore[return-value]


def hit_json(hit: Hit, *, explain: bool) -> dict[str, object]:
    record: dict[str, object] = {
        "id": hit.document.id,
        "kind": hit.document.kind,
        "title": hit.document.title,
        "language": hit.document.language,
        "project": hit.document.project,
        "phase": hit.document.phase,
        "tags": hit.document.tags,
        "status": hit.document.status,
        "date": hit.document.date,
        "score": round(hit.score, 6),
        "strength": round(hit.explanation.strength, 4),
        "heading": hit.heading,
        "snippet": "".join(s.text for s in hit.snippet),
        "highlights": [s.text for s in hit.snippet if s.match],
        "parent": _ref(hit.parent.id, hit.parent.kind, hit.parent.title) if hit.parent else None,
        "similar": [_ref(d.id, d.kind, d.title) for d in hit.similar],
        "location": hit.location.label() if hit.location else None,
    }
    if explain:
        record["explanation"] = {**asdict(hit.explanation), "match": hit.explanation.match}
    return record


def _ref(doc_id: str, kind: str, title: str) -> dict[str, str]:
    """A document a hit names: its retrospective, or a near-duplicate folded into it."""
    return {"id": doc_id, "kind": kind, "title": title}


def _print_result(result: SearchResult, *, explain: bool) -> None:
    if not result.hits:
        where = " with these filters" if result.filters.active else ""
        if result.weak:
            message = f"no confident match for {result.query!r}{where} ({result.weak} weak matches: --weak lists them)"
        else:
            message = f"no results for {result.query!r}{where}"
        out.print(message, highlight=False, markup=False)
        return
    out.print(f"{result.total} documents, {result.took_ms:.0f} ms", highlight=False)
    for n, hit in enumerate(result.hits, start=1):
        doc = hit.document
        meta = " · ".join(x for x in (doc.kind, doc.project or "", doc.phase or "", doc.date or "") if x)
        out.print(f"\n[bold]{n}. {escape(doc.title)}[/bold]  [dim]{escape(meta)}  {doc.id}[/dim]", highlight=False)
        text = "".join(
            f"[bold yellow]{escape(s.text)}[/bold yellow]" if s.match else escape(s.text) for s in hit.snippet
        )
        if hit.location:
            text = f"[dim]({escape(hit.location.label())})[/dim] " + text
        out.print("   " + text, highlight=False)
        if hit.parent:
            out.print(f"   [dim]from: {escape(hit.parent.title)}  {hit.parent.id}[/dim]", highlight=False)
        if hit.similar:
            listed = "; ".join(f"{escape(d.title)} {d.id}" for d in hit.similar)
            out.print(f"   [dim]{len(hit.similar)} similar: {listed}[/dim]", highlight=False)
        if explain:
            e = hit.explanation
            out.print("   " + escape(plain_reasons(e)), highlight=False)
            out.print(
                f"   [dim]strength {e.strength:.2f} · lexical rank {e.lexical_rank or '—'} score {e.lexical_score} · "
                f"dense rank {e.dense_rank or '—'} score {e.dense_score} · fused {e.fused_score:.4f}[/dim]",
                highlight=False,
                markup=True,
            )


def plain_reasons(e: Explanation) -> str:
    """Why a hit matched, in words: its strength, the query words it holds, translations, similar meaning."""
    return " · ".join([f"{e.match} match", *in_words(e.matched_words, e.via_translation, e.similar_meaning)])


@app.command()
@domain_errors
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Japanese or English.")],
    kind: Many = None,
    project: Many = None,
    phase: Many = None,
    tag: Many = None,
    lang: Many = None,
    status: Many = None,
    date_from: Annotated[dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    date_to: Annotated[dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"])] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    mode: ModeOption = "hybrid",
    explain: Annotated[bool, typer.Option("--explain", help="Show why each result ranked where it did.")] = False,
    weak: Annotated[bool, typer.Option("--weak", help="Also list matches below the confidence line.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Search lessons, FAQs, templates and procedures (hybrid lexical + semantic); confident matches only."""
    filters = Filters.of(
        kinds=kind,
        projects=project,
        phases=phase,
        tags=tag,
        languages=lang,
        statuses=status,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    with kb_for(data_dir) as kb:
        index_with_progress(kb, quiet=as_json)
        result = app_search.search(
            kb, caller=local_caller(), query=query, filters=filters, limit=limit, mode=_mode(mode), weak=weak
        )
    if as_json:
        print_json(
            {
                "query": result.query,
                "mode": result.mode,
                "total": result.total,
                "weak": result.weak,
                "took_ms": round(result.took_ms, 2),
                "hits": [hit_json(h, explain=explain) for h in result.hits],
            }
        )
    else:
        _print_result(result, explain=explain)


@app.command()
@domain_errors
def reindex(data_dir: DataDir = None) -> None:
    """Rebuild the vector and lexical indexes from the store (built aside, then swapped in)."""
    with kb_for(data_dir) as kb, progress_bar("reindex") as progress:
        task = progress.add_task("reindex", total=None)
        stats = maintenance.reindex(
            kb,
            caller=local_caller(),
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    out.print(
        f"indexed {stats['documents']} documents, {stats['chunks']} chunks with {stats['embedder']}", highlight=False
    )


@app.command("eval")
@domain_errors
def eval_command(
    folder: Annotated[Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv.")],
    mode: ModeOption = "hybrid",
    kind: Annotated[
        Kind | None,
        typer.Option(
            "--kind",
            help="Store the corpus as this kind (default: faq, or the kind of a known ../shared/eval set). "
            "An FAQ's title is searched as its question.",
        ),
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Measure search quality and latency on a BEIR-format evaluation set."""
    settings = settings_for(data_dir)
    embedder = make_embedder(settings.embedder)
    with progress_bar("index corpus", quiet=as_json) as progress:
        task = progress.add_task("index", total=None)
        (report,) = evaluate(
            folder,
            settings,
            embedder,
            [_mode(mode)],
            lambda done, total: progress.update(task, completed=done, total=total),
            kind,
        )
    if as_json:
        print_json(report.as_json())
        return
    err.print(f"{folder.name}: {report.queries} queries, mode {report.mode}", highlight=False)
    for key, value in report.as_json().items():
        out.print(f"{key}: {value}", highlight=False)


@app.command()
@domain_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default KB_HOST: 127.0.0.1; 0.0.0.0 for every interface).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    init: Annotated[bool, typer.Option("--init", help="Start an empty data dir when there is none yet.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Serve the web UI and JSON API for a data dir (an empty one offers to load the demo)."""
    import uvicorn

    from kb.threads import pin_native_threads
    from web.app import create_app
    from web.logs import log_config

    settings = settings_for(data_dir, create=init)
    host = host or settings.host
    # Already done by the entry point; again here because serve is the path that must not miss it (an
    # embedding of the CLI that imported numpy first gets at least BLAS and this thread pinned).
    pin_native_threads(settings.native_threads)
    err.print(f"serving {settings.data_dir.resolve()} on http://{host}:{port}", highlight=False)
    with kb_for(data_dir, create=init) as kb:
        if maintenance.without_users(kb):
            err.print("no users yet: create the first admin with `kb user add NAME --role pmo_admin`", highlight=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=log_config(settings.log_format))
