"""The PMO dashboard: every figure checked against the store, the charts, the CSV exports, the FAQ action."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter

from fastapi.testclient import TestClient

from kb.identity.access import CLI
from kb.pmo import lifecycle, saved_briefs
from kb.record.models import Kind, Role
from tests.web.conftest import csrf_of


def _csv(client: TestClient, table: str) -> list[list[str]]:
    r = client.get(f"/dashboard/{table}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("\ufeff") and f'filename="{table}.csv"' in r.headers["content-disposition"]
    return list(csv.reader(io.StringIO(r.text[1:])))


def _activity(client: TestClient) -> dict[str, str]:
    for q in ("ベンダー選定", "vendor selection"):
        client.get("/api/search", params={"q": q})
    for q in ("ぴよぴよ語彙", "ぴよぴよ語彙", "zzz unknown"):  # nothing matches these among the templates
        assert client.get("/api/search", params={"q": q, "kind": "template"}).json()["total"] == 0
    hits = client.get("/api/search", params={"q": "ベンダー選定", "kind": "lesson"}).json()["hits"]
    lesson, other = hits[0]["id"], hits[1]["id"]
    client.post("/api/feedback", json={"query": "ベンダー選定", "document_id": lesson, "helpful": True})
    client.post("/api/feedback", json={"query": "ベンダー選定", "document_id": other, "helpful": False})
    template = client.post(
        "/api/documents",
        json={
            "kind": "template",
            "title": "Old gate checklist",
            "body": "x",
            "review_by": "2024-01-31",
            "owner": "sato",
        },
    ).json()["id"]
    client.post(f"/api/documents/{lesson}/action", json={"status": "adopted", "target_id": template})
    saved = client.post(
        "/api/briefs", json={"description": "ベンダー選定を行う。", "project": "販売管理刷新", "read": [lesson]}
    ).json()
    client.post("/api/brief", json={"description": "We will select a vendor."})
    client.app.state.clusters.refresh()  # type: ignore[attr-defined]
    return {"lesson": lesson, "template": template, "brief": str(saved["saved_id"])}


def test_every_figure_matches_the_store(client: TestClient) -> None:
    made = _activity(client)
    kb = client.app.state.kb  # type: ignore[attr-defined]
    store = kb.store
    kb.search_log.flush()  # searches are written in batches
    report = kb.analytics.report(limit=100)
    docs = store.documents()
    for lang, title in (("ja", "PMO ダッシュボード"), ("en", "PMO dashboard")):
        html = client.get("/dashboard", headers={"accept-language": lang}).text
        assert title in html and html.count("<svg") == 3
    # searches per week, and the totals above the charts
    weeks = _csv(client, "searches")
    assert weeks[0] == ["week", "searches", "zero_results", "briefs"] and len(weeks) == 13
    this_week = (dt.date.today() - dt.timedelta(days=dt.date.today().weekday())).isoformat()
    assert weeks[-1][0] == this_week
    assert sum(int(r[1]) for r in weeks[1:]) == report.searches
    assert sum(int(r[2]) for r in weeks[1:]) == report.zero_result_searches == 3
    assert sum(int(r[3]) for r in weeks[1:]) == len(kb.audit.events(action="brief")) == 1  # saving is not "made"
    assert f'id="total-searches">{report.searches}<' in html and 'id="total-zero">3<' in html
    # the zero-result backlog, each with its prefilled FAQ link
    assert [(q, int(n)) for q, n, _ in _csv(client, "zero_results")[1:]] == report.zero_result_queries
    assert "/faq/new?question=%E3%81%B4%E3%82%88" in html
    # feedback per document
    titles = {d.id: d.title for d in docs}
    assert [(r[3], int(r[1]), int(r[2])) for r in _csv(client, "feedback")[1:]] == report.feedback
    assert all(titles[r[3]] == r[0] for r in _csv(client, "feedback")[1:])
    # coverage: current documents per kind, overall and by project, phase, language
    current = [d for d in docs if d.status not in lifecycle.RETIRED]
    coverage = _csv(client, "coverage")
    kinds = [k.value for k in Kind]
    assert coverage[0] == ["dimension", "value", *kinds, "total"]
    rows = {(r[0], r[1]): [int(v) for v in r[2:]] for r in coverage[1:]}
    by_kind = Counter(d.kind.value for d in current)
    assert rows[("all", "all")] == [by_kind[k] for k in kinds] + [len(current)]
    vocabulary = client.app.state.vocabulary  # type: ignore[attr-defined]
    for dimension in ("project", "phase", "language"):
        canonical = (lambda v: vocabulary.canonical("phase", v)) if dimension == "phase" else (lambda v: v)
        expected = Counter((canonical(getattr(d, dimension)) or "—") for d in current)
        assert {v: rows[(dim, v)][-1] for dim, v in rows if dim == dimension} == expected
    chart = re.search(r'id="chart-coverage".*?</svg>', html, re.S)
    assert chart and [int(v) for v in re.findall(r'data-value="(\d+)"', chart.group(0))] == [by_kind[k] for k in kinds]
    # recurring problems: the clusters seen in two or more projects
    problems = [c for c in client.app.state.clusters.current(None).groups]  # type: ignore[attr-defined]
    recurring = _csv(client, "recurring")[1:]
    assert 0 < len(recurring) <= len(problems)
    for label, n, projects, *_ in recurring:
        members = next(g for g in problems if titles[g[0]] == label)
        assert int(n) == len(members) and len(projects.split(", ")) >= 2
        assert set(projects.split(", ")) == {p for m in members if (p := store.get(m).project)}
    # the 再発防止 backlog: every lesson but the adopted one, by project
    lessons = [d for d in docs if d.kind is Kind.lesson and d.id != made["lesson"]]
    backlog = _csv(client, "open_lessons")
    assert sum(int(r[-1]) for r in backlog[1:]) == len(lessons)
    assert {r[0]: int(r[-1]) for r in backlog[1:]} == Counter(d.project or "—" for d in lessons)
    assert all(sum(int(v) for v in r[1:-1]) == int(r[-1]) for r in backlog[1:])
    # overdue reviews
    overdue = _csv(client, "overdue")[1:]
    today = dt.date.today()
    expected_overdue = [d.id for d in lifecycle.overdue(docs, today)]
    assert [r[-1] for r in overdue] == expected_overdue and made["template"] in expected_overdue
    row = next(r for r in overdue if r[-1] == made["template"])
    assert (row[3], row[4], int(row[5])) == ("sato", "2024-01-31", (today - dt.date(2024, 1, 31)).days)
    # saved briefs and which lessons were read before kickoff
    (brief,) = _csv(client, "briefs")[1:]
    saved = saved_briefs.get(store, int(made["brief"]), CLI)
    assert brief[0] == "販売管理刷新" and int(brief[3]) == 1 == sum(i["read"] for i in saved.items)
    assert int(brief[4]) == len(saved.items) and int(brief[5]) == 1
    assert client.get("/dashboard/nothing.csv").status_code == 404


def test_people_read_by_display_name_on_the_page_and_by_login_in_the_csv(client: TestClient) -> None:
    """The overdue template's owner (sato) and the brief's saver (admin) have accounts with display names."""
    kb = client.app.state.kb  # type: ignore[attr-defined]
    kb.accounts.add_user("sato", role=Role.contributor, display_name="佐藤 花子")
    kb.accounts.update_user("admin", display_name="PMO 管理者", by="admin")
    made = _activity(client)
    for lang in ("ja", "en"):
        html = client.get("/dashboard", headers={"accept-language": lang}).text
        overdue = re.search(
            rf'<a href="/documents/{made["template"]}">[^<]*</a></td><td>[^<]*</td><td>([^<]*)</td>', html
        )
        brief = re.search(rf'<a href="/briefs/{made["brief"]}">[^<]*</a></td><td>[^<]*</td><td>([^<]*)</td>', html)
        assert overdue and overdue.group(1) == "佐藤 花子", lang
        assert brief and brief.group(1) == "PMO 管理者", lang
    assert next(r for r in _csv(client, "overdue")[1:] if r[-1] == made["template"])[3] == "sato"
    assert _csv(client, "briefs")[1][2] == "admin"


def test_write_an_faq_for_a_zero_result_query(client: TestClient) -> None:
    form = client.get("/faq/new", params={"question": "会議室の予約方法は？<b>"}).text
    assert 'value="会議室の予約方法は？&lt;b&gt;"' in form
    csrf = csrf_of(client, "/faq/new")
    r = client.post("/faq/new", data={"csrf": csrf, "question": "会議室の予約方法は？", "answer": ""})
    assert r.status_code == 422
    r = client.post(
        "/faq/new",
        data={
            "csrf": csrf,
            "question": "会議室の予約方法は？",
            "answer": "ポータルから予約します。",
            "category": "総務",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    hits = client.get("/api/search", params={"q": "会議室 予約", "kind": "faq"}).json()["hits"]
    assert hits[0]["title"] == "会議室の予約方法は？"


def test_coverage_rows_name_languages_and_phases_in_words(client: TestClient) -> None:
    """The coverage table once read ``en``/``ja`` on a Japanese page: values go through ``field_words``."""
    for lang, words, codes in (("ja", ("英語", "日本語"), ("en", "ja")), ("en", ("English", "Japanese"), ("en", "ja"))):
        html = client.get("/dashboard", headers={"accept-language": lang}).text
        rows = re.findall(r'<tr class="cov-language"><td>[^<]*</td><td>([^<]*)</td>', html)
        assert sorted(rows) == sorted(words), lang
        assert not set(codes) & set(rows)
        phases = re.findall(r'<tr class="cov-phase"><td>[^<]*</td><td>([^<]*)</td>', html)
        assert ("企画" if lang == "ja" else "Planning") in phases and "initiation" not in phases


def test_recurring_problems_keep_dates_and_counts_on_one_line(client: TestClient) -> None:
    """At 1366 px the long problem column squeezed the dates into two lines (2025-06- / 13) and 傾向 into 傾 / 向."""
    client.app.state.clusters.refresh()  # type: ignore[attr-defined]
    html = client.get("/dashboard", headers={"accept-language": "ja"}).text
    table = re.search(r'<table class="dash-table" id="table-recurring">(.*?)</table>', html, flags=re.S)
    assert table and re.search(r'<td class="nowrap">\d{4}-\d{2}-\d{2}</td>', table.group(1))
    assert '<th class="nowrap">傾向</th>' in table.group(1)
    css = client.get("/static/app.css").text
    assert re.search(r"\.nowrap\s*\{\s*white-space:\s*nowrap", css)


def test_a_new_stores_dashboard_says_what_each_empty_table_will_hold(empty_client: TestClient) -> None:
    for lang, phrases in (
        ("ja", ["結果ゼロの検索はまだありません", "まだフィードバックはありません", "「情報が古い」との報告はありません",
                "繰り返された問題はまだありません", "見直し期限を過ぎた文書はありません", "保存したブリーフはまだありません"]),
        ("en", ["No searches without results yet", "No feedback yet", "No reports.", "No problem has recurred",
                "No document is past its review date", "No saved briefs yet"]),
    ):  # fmt: skip
        html = empty_client.get("/dashboard", headers={"accept-language": lang}).text
        assert 'class="meta">—<' not in html
        for phrase in phrases:
            assert phrase in html, (lang, phrase)
