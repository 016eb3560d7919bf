"""The ``kb`` command: a thin layer over the services in ``kb/`` and ``ingest/``.

Each command parses its arguments, calls the same services the web app uses,
prints human output by default and JSON with ``--json``, and turns domain
errors into a one-line message and exit code 1.
"""

from __future__ import annotations

from kb.threads import pin_native_threads

# Before anything below imports numpy or FAISS: their thread pools size themselves when they load,
# and FastAPI's worker threads would not see a limit set afterwards (kb/threads.py).
pin_native_threads()

import typer  # noqa: E402

from cli import accounts, documents, notify, ops, search, workflows  # noqa: E402

app = typer.Typer(
    help="PMO knowledge base: lessons learned, FAQs, templates and procedures.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for group in (documents.app, search.app, accounts.app, ops.app, workflows.app):
    for command in group.registered_commands:
        app.registered_commands.append(command)
app.add_typer(accounts.user_app, name="user")
app.add_typer(accounts.token_app, name="token")
app.add_typer(notify.app, name="notify")
app.add_typer(notify.project_app, name="project")


def main() -> None:
    app()
