"""PMO workflow commands: lifecycle moves, overdue reviews (and, below, the kickoff brief and recurring problems)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from app import briefs as app_briefs
from app import standards as app_standards
from cli.common import AsJson, DataDir, domain_errors, index_with_progress, kb_for, local_caller, out, print_json
from kb.errors import InvalidInput
from kb.pmo.brief import BriefRequest, to_markdown
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
    with kb_for(data_dir) as kb:
        moved = app_standards.move(kb, caller=local_caller(), doc_id=doc_id, action=action, comment=comment)
    doc = moved.document
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
    with kb_for(data_dir) as kb:
        due = app_standards.overdue(kb, caller=local_caller(), owner=owner)
    names = due.names
    if as_json:
        print_json(
            [
                {
                    "id": d.id,
                    "title": d.title,
                    "owner": d.owner,
                    "owner_name": names.get(d.owner or "", d.owner),
                    "review_by": d.review_by,
                }
                for d in due.documents
            ]
        )
        return
    for d in due.documents:
        shown = names.get(d.owner or "") or d.owner or "—"
        # escaped with its brackets: "[yamada]" alone reads as a rich style tag and printed as nothing
        out.print(f"{d.review_by}  {escape(d.title)}  {escape(f'[{shown}]')}  {d.id}", highlight=False)


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
        made = app_briefs.make(kb, caller=local_caller(), request=request)
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
