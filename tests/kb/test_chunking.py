"""Chunking: heading paths, character-based sizes, Japanese sentence cuts."""

from __future__ import annotations

from kb.search.chunking import chunk_document, chunk_markdown, markdown_blocks, split_long


def test_blocks_carry_heading_paths_and_plain_text() -> None:
    md = "## 教訓\n\n### ベンダー選定\n\n**事象**: 3か月[遅延](http://x)した。\n\n| 項目 | 配点 |\n|---|---|\n| 価格 | 30 |\n"
    blocks = markdown_blocks(md)
    assert (["教訓", "ベンダー選定"], "事象: 3か月遅延した。", False) in blocks
    assert (["教訓", "ベンダー選定"], "価格 | 30", False) in blocks
    assert blocks[0] == (["教訓"], "教訓", True)


def test_heading_path_resets_at_higher_level() -> None:
    md = "## A\n\n### B\n\ntext1\n\n## C\n\ntext2"
    paths = {text: path for path, text, _ in markdown_blocks(md)}
    assert paths["text1"] == ["A", "B"] and paths["text2"] == ["C"]


def test_split_long_cuts_japanese_at_sentence_ends_with_overlap() -> None:
    text = "".join(f"これは{i}番目の文です。" for i in range(40))
    pieces = split_long(text, 60, 10)
    assert all(len(p) <= 60 for p in pieces)
    assert pieces[0].endswith("。")
    # every sentence is whole in some piece
    for i in range(40):
        assert any(f"これは{i}番目の文です。" in p for p in pieces)


def test_split_long_hard_cuts_text_without_sentence_ends() -> None:
    pieces = split_long("あ" * 250, 100, 20)
    assert [len(p) for p in pieces] == [100, 100, 90]


def test_chunks_stay_within_size_and_follow_headings() -> None:
    md = "\n\n".join(f"## 節{i}\n\n" + "本文です。" * 30 for i in range(5))
    chunks = chunk_markdown(md, size=200, overlap=20)
    assert all(len(c.text) <= 200 for c in chunks)
    assert {c.heading for c in chunks} == {f"節{i}" for i in range(5)}


def test_small_sections_are_packed_together() -> None:
    md = "## Lesson\n\nShort lesson.\n\n## Recommendation\n\nShort advice."
    chunks = chunk_markdown(md, size=600)
    assert len(chunks) == 1
    assert chunks[0].text == "Lesson\nShort lesson.\nRecommendation\nShort advice."


def test_document_without_body_still_gets_a_chunk() -> None:
    assert [c.text for c in chunk_document("タイトルだけ", "")] == ["タイトルだけ"]
    assert chunk_markdown("## only a heading") == []


def test_a_title_can_be_a_chunk_of_its_own_first() -> None:
    answer = "申請書に本人確認書類を添えて窓口へ。"
    faq = chunk_document("転入届の出し方は？", answer, title_chunk=True)
    assert [c.text for c in faq] == ["転入届の出し方は？", answer]
    assert [c.text for c in chunk_document("転入届の出し方は？", answer)] == [answer]
    # No answer yet, or no question: one chunk, as for any document.
    assert [c.text for c in chunk_document("転入届の出し方は？", "", title_chunk=True)] == ["転入届の出し方は？"]
    assert [c.text for c in chunk_document("", answer, title_chunk=True)] == [answer]
