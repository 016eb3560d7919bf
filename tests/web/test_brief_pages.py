"""The kickoff brief on the web: form, reading list, exports, saving to a project, the API; CSRF and roles."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kb.record.models import Role, SavedBrief
from tests.web.conftest import add_user, bearer, csrf_of

JA = "販売管理システムを刷新する。パッケージ製品を選ぶため、複数のベンダーから提案を受けて選定する。<script>x</script>"


def _form(client: TestClient, **extra: object) -> dict[str, object]:
    return {"csrf": csrf_of(client, "/brief"), "description": JA, "phase": "企画", **extra}


def test_brief_page_in_both_languages_makes_a_list_with_reasons_and_escapes_the_description(client: TestClient) -> None:
    for lang, heading in (("ja", "キックオフ・ブリーフ"), ("en", "Kickoff brief")):
        assert heading in client.get("/brief", headers={"accept-language": lang}).text
    assert client.post("/brief", data={"description": JA}).status_code == 403  # no CSRF token
    html = client.post("/brief", data=_form(client)).text
    assert 'id="brief-result"' in html and "ベンダー選定手順書" in html and 'name="read"' in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    assert client.post("/brief", data={**_form(client), "description": " "}).status_code == 422
    events = client.app.state.kb.audit.events(action="brief")  # type: ignore[attr-defined]
    assert len(events) == 1 and events[0].detail["items"] > 0


def test_markdown_and_printable_exports_keep_the_ticks(client: TestClient) -> None:
    api = client.post("/api/brief", json={"description": JA, "phase": "企画"}).json()
    procedure = next(i for i in api["groups"]["procedure"] if i["title"] == "ベンダー選定手順書")
    r = client.post("/brief/export", data=_form(client, format="md", read=[procedure["id"]], project="販売管理刷新"))
    assert r.headers["content-type"].startswith("text/markdown") and "attachment" in r.headers["content-disposition"]
    assert r.text.startswith("# Kickoff brief: 販売管理刷新")
    assert f"- [x] [ベンダー選定手順書](http://testserver/documents/{procedure['id']})" in r.text
    assert "- [ ] " in r.text and "\\<script\\>" in r.text
    html = client.post("/brief/export", data=_form(client, format="print", read=[procedure["id"]])).text
    assert 'class="brief-print"' in html and "☑" in html and 'type="checkbox"' not in html


def test_a_contributor_saves_a_brief_to_a_project_and_ticks_items_later(client: TestClient) -> None:
    pm = add_user(client, "tanaka", Role.contributor)
    other = add_user(client, "sato", Role.contributor)
    api = client.post("/api/brief", json={"description": JA}, headers=bearer(pm)).json()
    first = api["groups"]["lesson"][0]["id"]
    client.headers.update(bearer(pm))
    r = client.post("/brief/save", data=_form(client, project="販売管理刷新", read=[first]), follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "販売管理刷新" in page and 'id="read-count">1 / ' in page
    # the saved list reads like the brief it was made from: lessons, templates, procedures, FAQs under headings
    sections = re.findall(r'<section class="brief-group brief-(\w+)"', page)
    assert sections == [kind for kind, items in api["groups"].items() if items] and "心に留めるべき教訓" in page
    brief_id = int(r.headers["location"].rsplit("/", 1)[1])
    csrf = csrf_of(client, f"/briefs/{brief_id}")
    client.headers.update(bearer(other))
    assert client.post(f"/briefs/{brief_id}", data={"csrf": csrf, "read": [first]}).status_code == 403
    client.headers.update(bearer(pm))
    items = client.app.state.kb  # type: ignore[attr-defined]
    from kb.identity.access import CLI
    from kb.pmo import saved_briefs

    everything = [i["document_id"] for i in saved_briefs.get(items.store, brief_id, CLI).items]
    r = client.post(f"/briefs/{brief_id}", data={"csrf": csrf, "read": everything[:3]}, follow_redirects=False)
    assert r.status_code == 303
    assert [i["read"] for i in saved_briefs.get(items.store, brief_id, CLI).items][:4] == [True, True, True, False]
    assert "販売管理刷新" in client.get("/briefs").text
    md = client.get(f"/briefs/{brief_id}/markdown").text
    assert md.count("- [x]") >= 3
    saved = client.post("/api/briefs", json={"description": JA, "project": "API project", "read": [first]}).json()
    assert saved["saved_id"] and saved["groups"]["lesson"][0]["reason"]
    actions = [e.action for e in items.audit.events(limit=10)]
    assert "brief_save" in actions and "brief_read" in actions


def test_saved_briefs_name_whoever_saved_them_by_display_name_in_both_languages(client: TestClient) -> None:
    kb = client.app.state.kb  # type: ignore[attr-defined]
    pm = add_user(client, "tanaka", Role.contributor)
    kb.accounts.update_user("tanaka", display_name="田中 一郎", by="admin")
    client.headers.update(bearer(pm))
    mine = client.post("/api/briefs", json={"description": JA, "project": "販売管理刷新"}).json()["saved_id"]
    other = client.post("/api/briefs", json={"description": JA, "project": "Old project"}).json()["saved_id"]
    with kb.store.db.writing() as session:  # saved by an account that is gone since: shown by its login
        session.get(SavedBrief, other).created_by = "suzuki"
    for lang in ("ja", "en"):
        client.cookies.set("kb_lang", lang)
        listing = client.get("/briefs").text
        rows = dict(re.findall(r'<a href="/briefs/\d+">([^<]+)</a></td><td>[^<]*</td><td>([^<]*)</td>', listing))
        assert rows == {"販売管理刷新": "田中 一郎", "Old project": "suzuki"}, (lang, rows)
        summary = re.search(r'<p class="summary">(.*?)</p>', client.get(f"/briefs/{mine}").text, re.S)
        assert summary and " · 田中 一郎 · " in summary.group(1) and "tanaka" not in summary.group(1), lang


def test_a_reason_that_is_the_whole_description_is_not_repeated_under_every_item(client: TestClient) -> None:
    """A saved brief repeated 理由:「<the whole description>」 under each of its 18 items, right under the
    description itself; only a reason that names a part of it (one sentence, the phase) says something."""
    r = client.post("/brief/save", data=_form(client, project="販売管理刷新"), follow_redirects=False)
    saved = client.get(r.headers["location"]).text
    reasons = re.findall(r'<p class="brief-reason">[^「]*「(.*?)」</p>', saved, flags=re.S)
    items = saved.count('class="brief-item"')
    assert items > 5 and len(reasons) < items
    assert not any(reason.startswith("販売管理システムを刷新する。パッケージ製品を選ぶため") for reason in reasons)
    made = client.post("/brief", data=_form(client)).text
    shown = re.findall(r'<p class="brief-reason">[^「]*「(.*?)」</p>', made, flags=re.S)
    assert shown and all(not s.startswith("販売管理システムを刷新する。パッケージ製品を選ぶため") for s in shown)
