"""Cell values: dates in the forms offices write them, tags, statuses, kinds and placeholders."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.kinds import FOLDER_KINDS
from ingest.values import cell_text, is_placeholder, parse_date, parse_kind, parse_status, split_tags
from kb.record.models import Kind, Status

MAY_1 = dt.date(2024, 5, 1)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024/5/1",
        "2024.05.01",
        "2024年5月1日",
        "２０２４年５月１日",
        "令和6年5月1日",
        "R6.5.1",
        "2024-05-01 09:30:00",
        "2024-05-01T09:30",
        "05/01/2024",
        "May 1, 2024",
        "1 May 2024",
        "01-May-2024",
        "May 1, 2024 10:00 AM",
        "2024/05/01 9:30",
        "05/01/2024 23:59:59",
        45413,
        45413.5,
        "45413",
        dt.datetime(2024, 5, 1, 12, 0),
        MAY_1,
    ],
)
def test_every_common_way_of_writing_a_date(value: object) -> None:
    assert parse_date(value) == MAY_1


def test_ambiguous_and_partial_dates() -> None:
    assert parse_date("13/05/2024") == dt.date(2024, 5, 13)  # day first when the first number cannot be a month
    assert parse_date("2024年5月") == MAY_1
    assert parse_date("平成元年1月8日") == dt.date(1989, 1, 8)


@pytest.mark.parametrize(
    ("value", "reason"), [("来週", "not a date"), ("2024-02-30", "not a real date"), (2024, "between 20000 and 80000")]
)
def test_what_is_not_a_date_says_so(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(value)


def test_tags_statuses_kinds_and_placeholders() -> None:
    assert split_tags("ベンダー、調達; vendor,ベンダー") == ["ベンダー", "調達", "vendor"]
    assert split_tags(["a", " b ", "N/A"]) == ["a", "b"]
    assert parse_status("公開") is Status.published and parse_status("Draft") is Status.draft
    assert parse_kind("教訓", FOLDER_KINDS) is Kind.lesson and parse_kind("FAQ", FOLDER_KINDS) is Kind.faq
    assert parse_kind("手順書", FOLDER_KINDS) is Kind.procedure
    with pytest.raises(ValueError, match="unknown kind 'memo'"):
        parse_kind("memo", FOLDER_KINDS)
    assert all(is_placeholder(v) for v in ("N/A", "該当なし", "－", "Not Applicable"))
    assert cell_text(12.0) == "12" and cell_text("Implementation &raquo; Phase D") == "Implementation » Phase D"
