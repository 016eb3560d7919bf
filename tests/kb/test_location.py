"""Where in an office file a passage is: headings written and read back, chunk offsets, the body cut into parts."""

from __future__ import annotations

from kb.search.location import Location, location_at, parse_heading, part_heading, split_parts


def test_headings_round_trip_in_both_languages() -> None:
    assert part_heading(part="sheet", name="WBS", language="ja") == "シート: WBS"
    assert part_heading(part="slide", name="7", title="移行  計画", language="en") == "Slide 7: 移行 計画"
    assert part_heading(part="slide", name="3", language="ja") == "スライド 3"
    assert parse_heading("シート: WBS") == Location("sheet", "WBS")
    assert parse_heading("Slide 7: 移行 計画") == Location("slide", "7", "移行 計画")
    assert parse_heading("スライド 3") == Location("slide", "3")
    assert parse_heading("Slides and handouts") is None and parse_heading("教訓") is None


def test_the_last_heading_before_the_match_decides_and_labels_name_it_in_the_reader_s_language() -> None:
    text = "スライド 6: 体制\nPM PMO\nスライド 7: 予備費\n予備費はフロギストン方式で積む"
    assert location_at(text, text.index("PMO")) == Location("slide", "6", "体制")
    found = location_at(text, text.index("フロギストン"))
    assert found == Location("slide", "7", "予備費")
    assert (found.label(), found.label("ja"), found.anchor) == ("slide 7", "スライド 7", "slide-7")
    assert location_at("本文だけ", 0, heading="シート: 課題 > 注意") == Location("sheet", "課題")
    assert location_at("本文だけ", 0, heading="教訓") is None
    assert Location("sheet", "WBS").label("ja") == "シート: WBS" and Location("sheet", "WBS").label() == "sheet: WBS"


def test_a_body_splits_at_its_sheet_headings_only() -> None:
    body = "前書き\n\n## シート: a\\<b\n\n| x | y |\n\n## 注意\n\n本文\n\n## シート: 記入例\n\n例"
    assert split_parts(body) == [
        (None, "前書き"),
        (Location("sheet", "a<b"), "| x | y |\n\n## 注意\n\n本文"),
        (Location("sheet", "記入例"), "例"),
    ]
