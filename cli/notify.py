"""Push delivery commands: one pass for cron (``kb notify run``), subscriptions, and the project register."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from app import notify as app_notify
from app import projects as app_projects
from app import subscriptions as app_subscriptions
from app.caller import Caller
from cli.common import AsJson, DataDir, domain_errors, index_with_progress, kb_for, out, print_json
from kb.identity.access import CLI
from kb.identity.accounts import principal_of

app = typer.Typer(help="Subscriptions, digests, webhooks, feeds and project stage gates.", no_args_is_help=True)
project_app = typer.Typer(help="The project register and its stage gates.", no_args_is_help=True)


def _as(kb: object, login: str) -> Caller:
    """The CLI acting as ``login`` (subscriptions belong to an account)."""
    user = kb.accounts.user(login)  # type: ignore[attr-defined]
    return Caller.local(principal_of(user, "cli"))


@app.command("run")
@domain_errors
def run_command(
    loop: Annotated[float, typer.Option("--loop", help="Repeat every this many seconds (0: one pass)")] = 0.0,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """One pass: enter planned phases, match new documents against subscriptions, send what is due."""
    with kb_for(data_dir) as kb:
        while True:
            index_with_progress(kb, quiet=True)
            report = app_notify.run(kb)
            if as_json:
                print_json(report.summary())
            else:
                out.print(" · ".join(f"{k}: {v}" for k, v in report.summary().items()))
            if loop <= 0:
                return
            time.sleep(loop)


@app.command("subscribe")
@domain_errors
def subscribe_command(
    login: Annotated[str, typer.Argument(help="The account that subscribes")],
    topic: Annotated[str, typer.Option(help="search, tag, category, phase, project, kind or document")] = "search",
    query: Annotated[str, typer.Option(help="Words of a saved search")] = "",
    target: Annotated[str, typer.Option(help="The tag, category, phase, project, kind or document id")] = "",
    channel: Annotated[str, typer.Option(help="inbox, email, webhook or feed")] = "inbox",
    rhythm: Annotated[str, typer.Option(help="now, daily or weekly")] = "now",
    address: Annotated[str, typer.Option(help="Email address or webhook URL")] = "",
    format: Annotated[str, typer.Option(help="Webhook body: json, slack or teams")] = "json",
    language: Annotated[str, typer.Option(help="ja or en")] = "ja",
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Subscribe an account to a saved search, a topic, a project, a kind or a document."""
    with kb_for(data_dir) as kb:
        sub = app_subscriptions.subscribe(
            kb, caller=_as(kb, login), topic=topic, query=query, target=target, channel=channel, rhythm=rhythm,
            address=address, format=format, language=language,
        )  # fmt: skip
        feed = f"{kb.settings.public_url.rstrip('/')}/feeds/{sub.feed_token}.atom" if sub.channel == "feed" else ""
    if as_json:
        print_json({"id": sub.id, "channel": sub.channel, "feed": feed or None,
                    "webhook_secret": sub.secret if sub.channel == "webhook" else None})  # fmt: skip
        return
    out.print(f"subscription {sub.id}: {sub.topic} → {sub.channel} ({sub.rhythm})")
    if feed:
        out.print(f"feed: {feed}")
    if sub.channel == "webhook":
        out.print(f"webhook secret (X-KB-Signature): {sub.secret}")


@app.command("list")
@domain_errors
def list_command(
    login: Annotated[str, typer.Argument(help="Whose subscriptions")], data_dir: DataDir = None, as_json: AsJson = False
) -> None:
    """An account's subscriptions with the state of their latest messages."""
    with kb_for(data_dir) as kb:
        mine = app_subscriptions.mine(kb, caller=_as(kb, login))
    rows = [
        {"id": m.subscription.id, "topic": m.subscription.topic, "what": m.subscription.query or m.subscription.target,
         "channel": m.subscription.channel, "active": m.subscription.active,
         "messages": [{"state": x.state, "attempts": x.attempts, "error": x.last_error} for x in m.messages]}
        for m in mine
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for r in rows:
        out.print(f"{r['id']}  {r['topic']}: {r['what']} → {r['channel']}{'' if r['active'] else ' (stopped)'}")


def _pairs(values: list[str]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values if "=" in v)


@project_app.command("save")
@domain_errors
def project_save(
    name: Annotated[str, typer.Argument(help="Project name")],
    pm: Annotated[str, typer.Option(help="The PM's login")] = "",
    member: Annotated[list[str] | None, typer.Option(help="A member's login (repeat)")] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Another name documents use (repeat)")] = None,
    plan: Annotated[list[str] | None, typer.Option(help="phase=YYYY-MM-DD (repeat)")] = None,
    description: Annotated[str, typer.Option(help="What the project is: the kickoff brief searches it")] = "",
    data_dir: DataDir = None,
) -> None:
    """Register or change a project (the CLI acts as the PMO)."""
    with kb_for(data_dir) as kb:
        row = app_projects.save(
            kb, caller=Caller.local(CLI), name=name, pm=pm, members=member or [], aliases=alias or [],
            planned=_pairs(plan or []), description=description,
        )  # fmt: skip
    out.print(f"{row.name}: phase {row.phase or '-'}, PM {row.pm or '-'}, {len(row.members)} members")


@project_app.command("phase")
@domain_errors
def project_phase(
    name: Annotated[str, typer.Argument(help="Project name")],
    phase: Annotated[str, typer.Argument(help="The phase it enters (e.g. 移行)")],
    data_dir: DataDir = None,
) -> None:
    """Move a project into a phase: its members get that phase's kickoff brief on the next pass."""
    with kb_for(data_dir) as kb:
        row = app_projects.enter_phase(kb, caller=Caller.local(CLI), name=name, phase=phase)
    out.print(f"{row.name} is in {row.phase}")


__all__ = ["app", "project_app"]
