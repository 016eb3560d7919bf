"""The application layer: one keyword-only function per use case, ``(kb, *, caller, …)``, for web, API and CLI.

Each use case checks access, applies the domain rule, writes its rows and its
audit rows in one transaction (``kb.store.transaction()``), and hands follow-up
work (index catch-up, metrics) to the knowledge base's hooks after the commit.
``web/`` and ``cli/`` parse, call one of these and render; neither opens a
database session or calls the searcher, so the CLI and the API give the same
answer to the same question.
"""
