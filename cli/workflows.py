"""PMO workflow commands: lifecycle moves, overdue reviews (and, below, the kickoff brief and recurring problems)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.accounts import actor
from cli.common import (
    AsJson,
    DataDir,
    domain_errors,
    index_with_progress,
    kb_for,
    out,
    print_json,
    settings_for,
    store_for,
)
from kb.errors import InvalidInput
from kb.identity.access import CLI, Principal
from kb.identity.audit import AuditLog
from kb.pmo import clusters, lifecycle
from kb.pmo.brief import BriefRequest, make_brief, to_markdown
from kb.pmo.lifecycle import Action

app = typer.Typer()


@app.command("lifecycle")
@domain_errors
def lifecycle_command(
    doc_id: Annotated[str, typer.Argument(help="Template or procedure id")],
    action: Annotated[Action, typer.Argument(help="submit, approve, return, supersede, archive or verify")],
    comment: Annotated[str, typer.Option("--comment", help="Why (required to return a draft)")] = "",
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Move a template or procedure through its lifecycle (the CLI acts as a PMO admin)."""
    settings = settings_for(data_dir)
    with store_for(data_dir) as store:
        moved = lifecycle.move(store, doc_id, action, by=CLI, comment=comment, review_days=settings.review_days)
        audit = AuditLog(store.engine)
        doc = moved.document
        audit.record(
            actor(), action.value, doc.id, address="local", title=doc.title, status=doc.status, comment=comment
        )
        for old in moved.superseded:
            audit.record(actor(), "supersede", old.id, address="local", title=old.title, by_version=doc.id)
    if as_json:
        print_json(
            {
                "id": doc.id,
                "status": doc.status,
                "review_by": doc.review_by,
                "superseded": [d.id for d in moved.superseded],
            }
        )
        return
    out.print(
        f"{escape(doc.title)}: {doc.status.value}" + (f", review by {doc.review_by}" if action is Action.verify else "")
    )
    for old in moved.superseded:
        out.print(f"  superseded {escape(old.title)} {escape(old.version or '')}")


@app.command()
@domain_errors
def reviews(
    owner: Annotated[str | None, typer.Option("--owner", help="Only those this login owns or created")] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Published templates and procedures past their review date, oldest first."""
    with store_for(data_dir) as store:
        docs = store.documents()
    who = Principal(owner, CLI.role) if owner else None
    due = lifecycle.overdue(docs, dt.date.today(), who)
    if as_json:
        print_json([{"id": d.id, "title": d.title, "owner": d.owner, "review_by": d.review_by} for d in due])
        return
    for d in due:
        out.print(f"{d.review_by}  {escape(d.title)}  [{escape(d.owner or '—')}]  {d.id}", highlight=False)


@app.command()
@domain_errors
def brief(
    source: Annotated[str, typer.Argument(help="File with the project description, or - for stdin")],
    phase: Annotated[str, typer.Option("--phase", help="Phase of the project")] = "",
    project_type: Annotated[str, typer.Option("--type", help="Project type")] = "",
    vendor: Annotated[list[str] | None, typer.Option("--vendor", help="A vendor (repeatable)")] = None,
    tech: Annotated[list[str] | None, typer.Option("--tech", help="A technology (repeatable)")] = None,
    budget: Annotated[str, typer.Option("--budget", help="small, medium, large or free text")] = "",
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown checklist")] = False,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Kickoff brief: the lessons, templates, procedures and FAQs a new project should read, with reasons."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    if not text.strip():
        raise InvalidInput("the description is empty")
    request = BriefRequest(text, project_type, phase, tuple(vendor or ()), tuple(tech or ()), budget)
    with kb_for(data_dir) as kb:
        index_with_progress(kb, quiet=True)
        problems = clusters.view(clusters.compute(kb.indexer), kb.indexer.docs, CLI.can_see)
        made = make_brief(kb.searcher, kb.store, request, visible_to=CLI.visible_to, problems=problems)
    if markdown:
        sys.stdout.write(to_markdown(made))
        return
    if as_json:
        print_json(
            {
                kind: [
                    {
                        "id": i.document.id,
                        "title": i.document.title,
                        "project": i.document.project,
                        "reason": i.reason,
                        "recommendation": i.recommendation,
                        "recurring_projects": i.cluster.projects if i.cluster and i.cluster.recurring else [],
                        "also": [d.id for d in i.also],
                    }
                    for i in items
                ]
                for kind, items in made.groups.items()
            }
        )
        return
    for kind, items in made.groups.items():
        out.print(f"[bold]{kind}[/bold]")
        for i in items:
            recurring = (
                f" [red](recurring: {len(i.cluster.projects)} projects)[/red]"
                if i.cluster and i.cluster.recurring
                else ""
            )
            out.print(f"  {escape(i.document.title)}{recurring}  {i.document.id}", highlight=False)
            out.print(f"    why: {escape(' '.join(i.reason.split())[:100])}", highlight=False)
    out.print(f"{made.took_ms:.0f} ms", style="dim")
