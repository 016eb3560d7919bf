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
