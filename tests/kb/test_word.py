"""Markdown to Word: the structure a person fills in survives, and no markup is interpreted."""

from __future__ import annotations

import io

import docx

from kb.pmo.word import markdown_docx

BODY = """\
> 記入前に読むこと

1. 目的を書く
   - 背景も書く
2. **期限**を書く

```
code line 1
code line 2
```

<script>alert(1)</script> と [規程](https://example.com/rules) を参照。
"""


def test_lists_quotes_code_and_links_keep_their_shape_and_html_stays_text() -> None:
    word = docx.Document(io.BytesIO(markdown_docx(title="計画書", body=BODY, language="ja")))
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs]
    assert paragraphs[:5] == [
        ("Title", "計画書"),
        ("Quote", "記入前に読むこと"),
        ("List Number", "目的を書く"),
        ("List Bullet 2", "背景も書く"),
        ("List Number", "期限を書く"),
    ]
    assert [r.bold for r in word.paragraphs[4].runs][:1] == [True]
    code = word.paragraphs[5]
    assert code.text == "code line 1\ncode line 2" and code.runs[0].font.name == "Consolas"
    assert paragraphs[6][1] == "<script>alert(1)</script> と 規程 (https://example.com/rules) を参照。"
    assert word.core_properties.title == "計画書" and word.core_properties.language == "ja"


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _numbering(word: object, paragraph: object) -> tuple[int, int, int | None]:
    """(numId, abstractNumId, startOverride of level 0) that a numbered paragraph counts in.

    Word counts every paragraph with one ``w:num`` as one list: a paragraph's own
    ``numPr`` wins over its style's."""
    own = paragraph._p.pPr.numPr if paragraph._p.pPr is not None else None  # type: ignore[attr-defined]
    num_pr = own if own is not None and own.numId is not None else paragraph.style.element.pPr.numPr  # type: ignore[attr-defined]
    num_id = num_pr.numId.val
    num = word.part.numbering_part.element.num_having_numId(num_id)  # type: ignore[attr-defined]
    start = num.find(f"{W}lvlOverride[@{W}ilvl='0']/{W}startOverride")
    return num_id, num.abstractNumId.val, int(start.get(f"{W}val")) if start is not None else None


def test_each_numbered_list_counts_from_its_own_start() -> None:
    body = (
        "1. 目的\n2. 範囲\n\n本文の段落。\n\n1. 準備\n2. 実施\n   1. 手順 A\n3. 確認\n\n次の段落。\n\n5. 五番目から\n"
    )
    word = docx.Document(io.BytesIO(markdown_docx(title="手順", body=body, language="ja")))
    numbered = [p for p in word.paragraphs if p.style.name.startswith("List Number")]
    assert [p.text for p in numbered] == ["目的", "範囲", "準備", "実施", "手順 A", "確認", "五番目から"]
    first, _, second, _, nested, _, third = (_numbering(word, p) for p in numbered)
    assert [_numbering(word, p)[0] for p in numbered[:2]] == [first[0]] * 2  # one list, one count
    assert [_numbering(word, p)[0] for p in (numbered[3], numbered[5])] == [second[0]] * 2
    assert len({first[0], second[0], nested[0], third[0]}) == 4  # four lists, four counts
    assert (first[2], second[2], nested[2], third[2]) == (1, 1, 1, 5)  # each restarts at its own first number
    list_number = word.styles["List Number"].element.pPr.numPr.numId.val
    abstract = word.part.numbering_part.element.num_having_numId(list_number).abstractNumId.val
    assert first[1] == second[1] == third[1] == abstract  # still the List Number style's look
