"""Running the service from the browser, in a real headless Chromium: administration, self-service, edit, feedback.

The stories of issue 21: an admin creates a contributor, who signs in with the
one-time password, chooses their own, edits their own lesson and cannot edit
another's; a reader marks a hit outdated and its owner finds it in the review
queue. Every page these touch is screenshot in Japanese and English into
``test-artifacts/`` and checked for horizontal overflow at 1366 px.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.record.models import DocumentDraft, Kind, Role, Status
from tests.conftest import HashingEmbedder
from tests.web.conftest import load_demo, serving
from tests.web.test_browser import ARTIFACTS, CHROMIUM

pytestmark = [pytest.mark.browser]

PASSWORD = "browser test password"
WIDTH = 1366
IDS: dict[str, str] = {}
NAMES = {"admin": "PMO 山田", "yamada": "山田 太郎"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo plus two lessons: one by ``sato`` (not yet an account), one by ``tanaka``; served on a free port."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-admin") / "data", min_dense_score=0.5)
    load_demo(settings)
    kb = KnowledgeBase.open(settings, embedder=HashingEmbedder())
    for login, role in {"admin": Role.pmo_admin, "tanaka": Role.contributor, "yamada": Role.reader}.items():
        kb.accounts.add_user(login, role=role, password=PASSWORD, display_name=NAMES.get(login, ""))
    lesson = {"kind": Kind.lesson, "status": Status.published}
    IDS["mine"] = kb.store.create(
        DocumentDraft.model_validate(
            {
                **lesson,
                "title": "倉庫移行の前日に在庫移動を止める",
                "body": "移行前日に在庫移動を凍結する。",
                "tags": ["移行"],
            }
        ),
        by="sato",
    ).id
    IDS["theirs"] = kb.store.create(
        DocumentDraft.model_validate(
            {**lesson, "title": "Freeze the scope before vendor selection", "body": "Vendor selection slipped twice."}
        ),
        by="tanaka",
    ).id
    kb.catch_up()
    kb.close()
    yield from serving(settings, embedder=HashingEmbedder())


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (apt-get install chromium); `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def new_page(chromium: object) -> object:
    context = chromium.new_context(locale="ja-JP", viewport={"width": WIDTH, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("dialog", lambda d: pytest.fail(f"a script ran: {d.message}"))
    return page


def sign_in(page: object, server: str, login: str, password: str = PASSWORD) -> None:
    page.goto(server + "/login")  # type: ignore[attr-defined]
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_selector("#who")  # type: ignore[attr-defined]


def shot(page: object, name: str) -> None:
    """Screenshot the page as it is, after checking it does not scroll sideways at 1366 px."""
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= WIDTH, f"{name}: the page is {width} px wide at {WIDTH} px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def both_languages(page: object, server: str, path: str, name: str) -> None:
    """Screenshot ``path`` in Japanese and English (the switcher's cookie), checking the overflow of each."""
    for lang in ("ja", "en"):
        page.goto(f"{server}/lang/{lang}?next={quote(path, safe='')}")  # type: ignore[attr-defined]
        page.wait_for_selector(f"html[lang={lang}]")  # type: ignore[attr-defined]
        shot(page, f"{name}-{lang}")
    page.goto(f"{server}/lang/ja?next=/")  # type: ignore[attr-defined]


def test_admin_creates_a_contributor_who_changes_the_password_and_edits_only_their_own(
    server: str, chromium: object
) -> None:
    admin = new_page(chromium)
    sign_in(admin, server, "admin")
    assert "PMO 山田" in admin.inner_text("#who")  # type: ignore[attr-defined]  # the display name, not the login
    admin.click("#nav-users")  # type: ignore[attr-defined]
    admin.fill("#new-login", "sato")  # type: ignore[attr-defined]
    admin.fill("#new-display-name", "佐藤 花子")  # type: ignore[attr-defined]
    admin.select_option("#new-role", "contributor")  # type: ignore[attr-defined]
    admin.fill("input[name=new_groups]", "倉庫, pj-a")  # type: ignore[attr-defined]
    admin.check("#cred-otp")  # type: ignore[attr-defined]
    admin.click("#add-user-submit")  # type: ignore[attr-defined]
    password = admin.inner_text("#one-time-password").strip()  # type: ignore[attr-defined]
    shot(admin, "user-issued-one-time-password-ja")
    admin.reload()  # type: ignore[attr-defined]  # a reload re-posts nothing visible; the secret is not on any page
    for path in ("/users", "/users/sato", "/audit"):
        admin.goto(server + path)  # type: ignore[attr-defined]
        assert password not in admin.content()  # type: ignore[attr-defined]
    both_languages(admin, server, "/users", "users")
    both_languages(admin, server, "/users/sato", "user-edit")
    both_languages(admin, server, "/groups", "groups")
    both_languages(admin, server, "/tokens", "tokens")

    person = new_page(chromium)
    sign_in(person, server, "sato", password)
    assert person.url.endswith("/account?first=1")  # type: ignore[attr-defined]
    assert person.locator("#must-change").count() == 1  # type: ignore[attr-defined]
    assert "佐藤 花子" in person.inner_text("#who")  # type: ignore[attr-defined]
    shot(person, "account-first-login-ja")
    person.goto(server + "/?q=" + quote("移行"))  # type: ignore[attr-defined]  # anywhere else: back to choose one
    assert person.url.endswith("/account?first=1")  # type: ignore[attr-defined]
    assert person.locator("#create-token").count() == 0  # type: ignore[attr-defined]
    both_languages(person, server, "/library", "account-one-time-redirect")
    person.fill("input[name=current]", password)  # type: ignore[attr-defined]
    person.fill("input[name=new]", "sato chooses this one")  # type: ignore[attr-defined]
    person.fill("input[name=again]", "sato chooses this one")  # type: ignore[attr-defined]
    person.click("#change-password")  # type: ignore[attr-defined]
    person.wait_for_selector("#account-notice")  # type: ignore[attr-defined]
    assert person.locator("#must-change").count() == 0  # type: ignore[attr-defined]
    person.fill("input[name=name]", "週次レポート")  # type: ignore[attr-defined]
    person.click("#create-token")  # type: ignore[attr-defined]
    secret = person.inner_text("#token-secret").strip()  # type: ignore[attr-defined]
    assert secret.startswith("kb_")
    shot(person, "account-token-once-ja")
    both_languages(person, server, "/account", "account")
    person.goto(server + "/account")  # type: ignore[attr-defined]
    assert secret not in person.content()  # type: ignore[attr-defined]

    # their own lesson: edit, preview, save
    person.goto(f"{server}/documents/{IDS['mine']}")  # type: ignore[attr-defined]
    person.click("#edit-link")  # type: ignore[attr-defined]
    person.fill("#edit-body", "移行前日に**在庫移動を凍結**する。\n\n- 出荷も止める")  # type: ignore[attr-defined]
    person.fill("#edit-tags", "移行, 倉庫")  # type: ignore[attr-defined]
    person.click("#edit-preview")  # type: ignore[attr-defined]
    assert person.inner_text("#preview strong") == "在庫移動を凍結"  # type: ignore[attr-defined]
    shot(person, "edit-preview-ja")
    person.click("#edit-save")  # type: ignore[attr-defined]
    person.wait_for_selector("#edit-notice")  # type: ignore[attr-defined]
    assert "出荷も止める" in person.inner_text("article.document")  # type: ignore[attr-defined]
    both_languages(person, server, f"/documents/{IDS['mine']}", "document-editable")
    both_languages(person, server, f"/documents/{IDS['mine']}/edit", "edit")
    both_languages(person, server, f"/documents/{IDS['mine']}/delete", "delete-confirm")

    # someone else's: no edit button, and the edit page refuses
    person.goto(f"{server}/documents/{IDS['theirs']}")  # type: ignore[attr-defined]
    assert person.locator("#edit-link").count() == 0  # type: ignore[attr-defined]
    response = person.goto(f"{server}/documents/{IDS['theirs']}/edit")  # type: ignore[attr-defined]
    assert response.status == 403  # type: ignore[union-attr]

    # the invitation route, in English this time
    admin.goto(f"{server}/lang/en?next=/users")  # type: ignore[attr-defined]
    admin.fill("#new-login", "kimura")  # type: ignore[attr-defined]
    admin.check("#cred-invite")  # type: ignore[attr-defined]
    admin.click("#add-user-submit")  # type: ignore[attr-defined]
    link = admin.inner_text("#invitation-link").strip()  # type: ignore[attr-defined]
    shot(admin, "user-issued-invitation-en")
    invited = new_page(chromium)
    invited.goto(link)  # type: ignore[attr-defined]
    shot(invited, "invite-ja")
    invited.fill("input[name=new]", "kimura password 1")  # type: ignore[attr-defined]
    invited.fill("input[name=again]", "kimura password 1")  # type: ignore[attr-defined]
    invited.click("#invite-submit")  # type: ignore[attr-defined]
    invited.wait_for_selector("#who")  # type: ignore[attr-defined]
    assert "kimura" in invited.inner_text("#who")  # type: ignore[attr-defined]


def test_a_reader_marks_a_hit_outdated_and_the_owner_sees_it_in_the_review_queue(server: str, chromium: object) -> None:
    reader = new_page(chromium)
    sign_in(reader, server, "yamada")
    reader.goto(server + "/?q=vendor+selection+scope")  # type: ignore[attr-defined]
    hit = reader.locator(f"#hit-{IDS['theirs']}")  # type: ignore[attr-defined]
    assert hit.locator(".fb-outdated").is_visible()  # visible without opening the "why" section
    shot(reader, "search-feedback-ja")
    hit.locator("details.feedback-comment summary").click()
    hit.locator("input[name=comment]").fill("2025年から選定手順が変わりました")
    hit.locator(".fb-outdated").click()
    reader.wait_for_selector(".notice")  # type: ignore[attr-defined]
    both_languages(reader, server, "/?q=vendor+selection+scope", "search-feedback")
    both_languages(reader, server, f"/documents/{IDS['theirs']}", "document-feedback")

    owner = new_page(chromium)
    sign_in(owner, server, "tanaka")
    owner.goto(server + "/reviews")  # type: ignore[attr-defined]
    reported = owner.inner_text("#outdated-reports")  # type: ignore[attr-defined]
    assert "Freeze the scope before vendor selection" in reported and "2025年から選定手順が変わりました" in reported
    assert "山田 太郎" in reported and "yamada" not in reported  # the reporter as people know them
    both_languages(owner, server, "/reviews", "reviews-outdated")
    admin = new_page(chromium)
    sign_in(admin, server, "admin")
    admin.goto(server + "/dashboard")  # type: ignore[attr-defined]
    assert "2025年から選定手順が変わりました" in admin.inner_text("#section-outdated")  # type: ignore[attr-defined]
    both_languages(admin, server, "/dashboard", "dashboard-outdated")
    owner.goto(server + "/reviews")  # type: ignore[attr-defined]
    owner.click("#outdated-reports button")  # type: ignore[attr-defined]
    owner.wait_for_selector(".notice")  # type: ignore[attr-defined]
    assert "2025年から" not in owner.inner_text("#outdated-reports")  # type: ignore[attr-defined]
