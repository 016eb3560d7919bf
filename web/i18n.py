"""UI text in Japanese and English, and picking the reader's language.

The language comes from the ``kb_lang`` cookie (set by the switcher), else the
browser's ``Accept-Language``, else Japanese (most of our users). Messages are
plain text; templates escape them like any other value.
"""

from __future__ import annotations

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"

MESSAGES: dict[str, dict[str, str]] = {
    "app_name": {"ja": "PMO ナレッジベース", "en": "PMO Knowledge Base"},
    "nav_search": {"ja": "検索", "en": "Search"},
    "nav_library": {"ja": "テンプレート・手順書", "en": "Templates & procedures"},
    "nav_faq": {"ja": "FAQ", "en": "FAQ"},
    "nav_retro": {"ja": "振り返りを登録", "en": "Add a retrospective"},
    "nav_upload": {"ja": "アップロード", "en": "Upload"},
    "nav_insights": {"ja": "検索の傾向", "en": "Search insights"},
    "nav_audit": {"ja": "監査ログ", "en": "Audit log"},
    "restrict_to": {
        "ja": "公開範囲を次のグループに限定する (未選択なら全員に公開)",
        "en": "Restrict to these groups (none ticked: everyone may read it)",
    },
    "restricted": {"ja": "限定公開", "en": "Restricted"},
    "login": {"ja": "ログイン", "en": "Log in"},
    "logout": {"ja": "ログアウト", "en": "Log out"},
    "login_name": {"ja": "ユーザー名", "en": "Login"},
    "password": {"ja": "パスワード", "en": "Password"},
    "login_failed": {"ja": "ユーザー名またはパスワードが違います。", "en": "Wrong login or password."},
    "login_locked": {
        "ja": "ログインの失敗が続いたため、しばらく受け付けません。15 分後にもう一度お試しください。",
        "en": "Too many failed logins: try again in 15 minutes.",
    },
    "no_users_yet": {
        "ja": "まだユーザーがいません。サーバーで最初の管理者を作成してください:",
        "en": "There are no users yet. Create the first PMO admin on the server:",
    },
    "role_reader": {"ja": "閲覧者", "en": "reader"},
    "role_contributor": {"ja": "投稿者", "en": "contributor"},
    "role_pmo_admin": {"ja": "PMO 管理者", "en": "PMO admin"},
    "audit_when": {"ja": "日時 (UTC)", "en": "When (UTC)"},
    "audit_actor": {"ja": "実行者", "en": "Who"},
    "audit_action": {"ja": "操作", "en": "Action"},
    "audit_target": {"ja": "対象", "en": "Target"},
    "audit_address": {"ja": "接続元", "en": "From"},
    "audit_detail": {"ja": "詳細", "en": "Details"},
    "search_placeholder": {
        "ja": "例: ベンダー選定 遅延 / vendor selection delays",
        "en": "e.g. vendor selection delays / ベンダー選定 遅延",
    },
    "search_button": {"ja": "検索", "en": "Search"},
    "results_count": {"ja": "{n} 件の文書", "en": "{n} documents"},
    "no_results": {"ja": "「{q}」に一致する文書はありませんでした。", "en": "No documents match “{q}”."},
    "no_results_hint": {
        "ja": "言葉を変える、短くする、または絞り込み条件を外してみてください。この検索は PMO に共有され、不足しているナレッジの把握に使われます。",
        "en": "Try other words, fewer words, or remove filters. This search is shared with the PMO so missing knowledge gets written.",
    },
    "clear_filters": {"ja": "絞り込みをすべて解除", "en": "Clear all filters"},
    "why": {"ja": "この結果の理由", "en": "Why this result"},
    "lexical": {"ja": "キーワード", "en": "Keyword"},
    "dense": {"ja": "意味", "en": "Meaning"},
    "rank": {"ja": "順位", "en": "rank"},
    "score": {"ja": "スコア", "en": "score"},
    "matched_terms": {"ja": "一致した語", "en": "Matched terms"},
    "not_found_by": {"ja": "該当なし", "en": "not found"},
    "unranked": {"ja": "上位100件の外", "en": "outside its top 100"},
    "helpful": {"ja": "役に立った", "en": "Helpful"},
    "not_helpful": {"ja": "役に立たなかった", "en": "Not helpful"},
    "thanks_feedback": {"ja": "フィードバックありがとうございました。", "en": "Thanks for the feedback."},
    "previous": {"ja": "前へ", "en": "Previous"},
    "next": {"ja": "次へ", "en": "Next"},
    "page": {"ja": "{n} ページ", "en": "Page {n}"},
    "facet_kind": {"ja": "種類", "en": "Kind"},
    "facet_project": {"ja": "プロジェクト", "en": "Project"},
    "facet_phase": {"ja": "フェーズ", "en": "Phase"},
    "facet_tags": {"ja": "タグ", "en": "Tags"},
    "facet_language": {"ja": "言語", "en": "Language"},
    "facet_status": {"ja": "状態", "en": "Status"},
    "kind_lesson": {"ja": "教訓", "en": "Lesson"},
    "kind_retrospective": {"ja": "振り返り", "en": "Retrospective"},
    "kind_faq": {"ja": "FAQ", "en": "FAQ"},
    "kind_template": {"ja": "テンプレート", "en": "Template"},
    "kind_procedure": {"ja": "手順書", "en": "Procedure"},
    "status_draft": {"ja": "下書き", "en": "Draft"},
    "status_published": {"ja": "公開", "en": "Published"},
    "status_superseded": {"ja": "旧版", "en": "Superseded"},
    "status_archived": {"ja": "アーカイブ", "en": "Archived"},
    "status_in_review": {"ja": "レビュー中", "en": "In review"},
    "nav_reviews": {"ja": "レビュー", "en": "Reviews"},
    "not_current": {"ja": "これは最新版ではありません。最新版:", "en": "This is not the current version. Current:"},
    "diff": {"ja": "差分", "en": "Changes"},
    "diff_skipped": {"ja": "変更のない {n} 行", "en": "{n} unchanged lines"},
    "diff_none": {"ja": "本文に違いはありません。", "en": "The texts are the same."},
    "original": {"ja": "元ファイル", "en": "original"},
    "lifecycle": {"ja": "承認の流れ", "en": "Review and publishing"},
    "review_comment": {"ja": "差し戻しのコメント", "en": "Comment for the author (when returning)"},
    "move_submit": {"ja": "レビューに提出", "en": "Submit for review"},
    "move_approve": {"ja": "承認して公開", "en": "Approve and publish"},
    "move_return": {"ja": "差し戻す", "en": "Return to the author"},
    "move_supersede": {"ja": "旧版にする", "en": "Mark superseded"},
    "move_archive": {"ja": "アーカイブ", "en": "Archive"},
    "move_verify": {"ja": "内容を確認済みにする", "en": "Verify (still correct)"},
    "review_history": {"ja": "レビュー履歴", "en": "Review history"},
    "carries_lessons": {"ja": "この版に反映された教訓", "en": "Lessons this version carries"},
    "action_status": {"ja": "再発防止の対応状況", "en": "Action status"},
    "action_open": {"ja": "未対応", "en": "Open"},
    "action_adopted": {"ja": "標準に反映済み", "en": "Adopted"},
    "action_not_adopted": {"ja": "反映しない", "en": "Not adopted"},
    "adopted_into": {"ja": "反映先のテンプレート・手順書", "en": "Adopted into (template or procedure)"},
    "not_adopted_reason": {"ja": "反映しない理由", "en": "Reason (when not adopted)"},
    "library_current": {"ja": "現行版のみ表示しています", "en": "Current versions only"},
    "library_show_all": {"ja": "旧版・アーカイブも表示", "en": "Show superseded and archived too"},
    "library_all": {"ja": "すべての版を表示しています", "en": "All versions"},
    "library_current_only": {"ja": "現行版のみ表示", "en": "Current versions only"},
    "reviews_title": {"ja": "レビューと見直し", "en": "Reviews"},
    "review_queue": {"ja": "レビュー待ち", "en": "Waiting for review"},
    "my_drafts": {"ja": "自分の下書き・差し戻し", "en": "My drafts and returns"},
    "overdue_reviews": {"ja": "見直し期限切れ", "en": "Overdue reviews"},
    "recurring_here": {
        "ja": "同じ問題が {n} プロジェクトで {count} 回起きています:",
        "en": "This happened in {n} projects ({count} lessons):",
    },
    "lang_ja": {"ja": "日本語", "en": "Japanese"},
    "lang_en": {"ja": "英語", "en": "English"},
    "driving_event": {"ja": "事象", "en": "Driving event"},
    "lesson": {"ja": "教訓", "en": "Lesson"},
    "recommendation": {"ja": "提言", "en": "Recommendation"},
    "question": {"ja": "質問", "en": "Question"},
    "answer": {"ja": "回答", "en": "Answer"},
    "project": {"ja": "プロジェクト", "en": "Project"},
    "phase": {"ja": "フェーズ", "en": "Phase"},
    "owner": {"ja": "担当", "en": "Owner"},
    "version": {"ja": "版", "en": "Version"},
    "status": {"ja": "状態", "en": "Status"},
    "date": {"ja": "日付", "en": "Date"},
    "review_by": {"ja": "見直し期限", "en": "Review by"},
    "category": {"ja": "カテゴリ", "en": "Category"},
    "impact": {"ja": "影響度", "en": "Impact"},
    "tags": {"ja": "タグ", "en": "Tags"},
    "supersedes": {"ja": "置き換え対象", "en": "Supersedes"},
    "source": {"ja": "出典ファイル", "en": "Source file"},
    "download_original": {"ja": "元ファイルをダウンロード", "en": "Download the original"},
    "related": {"ja": "関連する文書", "en": "Related documents"},
    "lessons_of_retro": {"ja": "この振り返りから得られた教訓", "en": "Lessons from this retrospective"},
    "from_retro": {"ja": "出典の振り返り", "en": "From the retrospective"},
    "versions": {"ja": "版の履歴", "en": "Version history"},
    "library_title": {"ja": "テンプレート・標準手順書", "en": "Templates and standard procedures"},
    "uncategorised": {"ja": "未分類", "en": "Uncategorised"},
    "faq_title": {"ja": "よくある質問", "en": "Frequently asked questions"},
    "faq_search": {"ja": "FAQ を検索", "en": "Search the FAQ"},
    "retro_title": {"ja": "振り返りを登録する", "en": "Add a retrospective"},
    "retro_intro": {
        "ja": "プロジェクトの振り返りを登録すると、教訓ごとに検索できる文書になります。",
        "en": "Each lesson you enter becomes its own searchable document, linked to this retrospective.",
    },
    "title": {"ja": "タイトル", "en": "Title"},
    "went_well": {"ja": "うまくいったこと", "en": "What went well"},
    "went_wrong": {"ja": "課題・うまくいかなかったこと", "en": "What went wrong"},
    "lessons": {"ja": "教訓", "en": "Lessons"},
    "add_lesson": {"ja": "教訓を追加", "en": "Add a lesson"},
    "save": {"ja": "保存", "en": "Save"},
    "upload_title": {"ja": "ファイルをアップロード", "en": "Upload files"},
    "upload_intro": {
        "ja": "Markdown などのファイルを複数まとめて登録できます。ファイルごとに結果を表示します。",
        "en": "Add several files at once; each gets its own result.",
    },
    "kind_hint": {"ja": "種類（ファイル内で指定がない場合）", "en": "Kind (when the file does not say)"},
    "from_file": {"ja": "ファイルの指定に従う", "en": "As the file says"},
    "upload_button": {"ja": "アップロード", "en": "Upload"},
    "file": {"ja": "ファイル", "en": "File"},
    "result": {"ja": "結果", "en": "Result"},
    "documents": {"ja": "文書数", "en": "Documents"},
    "file_added": {"ja": "追加", "en": "added"},
    "file_updated": {"ja": "更新", "en": "updated"},
    "file_unchanged": {"ja": "変更なし", "en": "unchanged"},
    "file_failed": {"ja": "失敗", "en": "failed"},
    "file_skipped": {"ja": "対象外", "en": "skipped"},
    "file_removed": {"ja": "削除", "en": "removed"},
    "empty_kb": {"ja": "ナレッジベースはまだ空です。", "en": "The knowledge base is empty."},
    "load_demo": {"ja": "デモ用のナレッジを読み込む", "en": "Load the demo knowledge base"},
    "welcome": {
        "ja": "過去の教訓・FAQ・テンプレート・手順書を、日本語でも英語でも探せます。",
        "en": "Find past lessons, FAQ answers, templates and procedures, in Japanese or English.",
    },
    "recent": {"ja": "最近更新された文書", "en": "Recently updated"},
    "insights_title": {"ja": "検索の傾向", "en": "Search insights"},
    "searches": {"ja": "検索数", "en": "Searches"},
    "zero_results": {"ja": "結果ゼロの検索", "en": "Searches that found nothing"},
    "top_queries": {"ja": "よく検索される語", "en": "Top searches"},
    "feedback": {"ja": "結果へのフィードバック", "en": "Result feedback"},
    "stale": {"ja": "見直し期限切れ", "en": "Past review date"},
    "error_title": {"ja": "エラー", "en": "Error"},
    "back_home": {"ja": "検索に戻る", "en": "Back to search"},
    "required": {"ja": "必須", "en": "required"},
}


def translate(key: str, language: str, **values: object) -> str:
    """The message ``key`` in ``language``; unknown keys show as themselves so a gap is visible."""
    text = MESSAGES.get(key, {}).get(language) or MESSAGES.get(key, {}).get("en") or key
    return text.format(**values) if values else text


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if valid, else the best of ``Accept-Language`` we have, else Japanese."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code in LANGUAGES and quality > best_q:
            best, best_q = code, quality
    return best
