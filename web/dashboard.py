"""The PMO dashboard (PMO admins): charts drawn on the server as SVG, tables, CSV exports, and the FAQ form
its zero-result backlog opens prefilled.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app import dashboard as app_dashboard
from app import documents as app_documents
from kb.errors import NotFound
from kb.identity.access import Principal
from kb.pmo import dashboard
from kb.record.models import Kind
from web.charts import bar_chart
from web.deps import CsrfDep, KbDep, LangDep, Role, caller_of, requires
from web.i18n import translate
from web.pages import render
from web.schemas import DocumentFields

router = APIRouter(include_in_schema=False)
AdminDep = Annotated[Principal, Depends(requires(Role.pmo_admin))]
ContributorDep = Annotated[Principal, Depends(requires(Role.contributor))]


def _build(request: Request, kb: KbDep, who: Principal) -> app_dashboard.Board:
    return app_dashboard.board(kb, caller=caller_of(request, who), vocabulary=request.app.state.vocabulary)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, kb: KbDep, who: AdminDep, lang: LangDep) -> HTMLResponse:
    """Searches over time, the zero-result backlog, feedback, coverage, recurring problems, the 再発防止
    backlog, overdue reviews and briefs: every table with its CSV."""
    built = _build(request, kb, who)
    board = built.tables
    weeks = board.searches.rows
    charts = {
        "searches": bar_chart(
            [w.strftime("%m/%d") for w, *_ in weeks],
            {
                translate(k, lang): [r[n] for r in weeks]
                for n, k in ((1, "searches"), (2, "zero_results"), (3, "briefs_made"))
            },
        ),
        "coverage": bar_chart(
            [translate("kind_" + k.value, lang) for k in Kind],
            {
                translate("documents_label", lang): board.coverage.rows[0][2 : 2 + len(Kind)]
                if board.coverage.rows
                else [0] * len(Kind)
            },
            width=420,
        ),
        "open_lessons": bar_chart(
            [translate("bucket_" + c, lang) for c in board.open_lessons.columns[1:-1]],
            {
                translate("action_open", lang): [
                    sum(r[1 + n] for r in board.open_lessons.rows) for n in range(len(dashboard.AGE_BUCKETS))
                ]
            },
            width=420,
        ),
    }
    return render(request, "dashboard.html", lang, board=board, names=built.names, charts=charts)


@router.get("/dashboard/{table}.csv")
def dashboard_csv(request: Request, kb: KbDep, who: AdminDep, table: str) -> Response:
    """One dashboard table as CSV (UTF-8 with a BOM, so Excel reads Japanese right)."""
    tables = _build(request, kb, who).tables.tables()
    if table not in tables:
        raise NotFound(f"no dashboard table {table!r}: one of {', '.join(tables)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(tables[table].columns)
    writer.writerows(["" if v is None else v for v in row] for row in tables[table].rows)
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


@router.get("/faq/new", response_class=HTMLResponse)
def faq_form(
    request: Request, who: ContributorDep, lang: LangDep, question: Annotated[str, Query(max_length=500)] = ""
) -> HTMLResponse:
    """Write an FAQ; the dashboard's zero-result backlog opens it with the question people asked."""
    return render(request, "faq_new.html", lang, form={"question": question, "answer": "", "category": ""}, errors=[])


@router.post("/faq/new", dependencies=[CsrfDep])
def faq_create(
    request: Request,
    kb: KbDep,
    who: ContributorDep,
    lang: LangDep,
    question: Annotated[str, Form(max_length=500)] = "",
    answer: Annotated[str, Form(max_length=100_000)] = "",
    category: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {"question": question, "answer": answer, "category": category}
    try:
        if not question.strip() or not answer.strip():
            raise ValueError(translate("faq_missing", lang))
        fields = DocumentFields(
            kind=Kind.faq,
            title=question.strip(),
            question=question.strip(),
            answer=answer.strip(),
            body=answer.strip(),
            category=category.strip() or None,
        )
    except (ValidationError, ValueError) as exc:
        return render(request, "faq_new.html", lang, 422, form=form, errors=[str(exc)])
    doc = app_documents.create(kb, caller=caller_of(request, who), fields=fields.model_dump())
    return RedirectResponse(f"/documents/{doc.id}", status_code=303)
