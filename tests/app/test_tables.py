"""The helpers behind every list's row click and pager (pages/_ui.py), without a browser.

AppTest selects rows through the table's state (tests/apptest.select_rows); what a
click becomes (which record opens, which page numbers are offered) is tested here."""

from __future__ import annotations

import pytest

from pages import _ui as ui


def test_a_selected_row_opens_that_rows_record():
    ids = [11, 12, 13]
    assert ui.opened_record([1], ids) == 12
    assert ui.opened_record([], ids) is None and ui.opened_record(None, ids) is None
    assert ui.opened_record([7], ids) is None  # a stale selection past the rows shown opens nothing
    assert ui.opened_record([7, 2], ids) == 13


def test_selected_rows_are_the_records_ticked():
    assert ui.selected_ids([0, 2], ["a", "b", "c"]) == ["a", "c"]
    assert ui.selected_ids([3], ["a"]) == []


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3), (30_000, 600)])
def test_pages_of_fifty(total, pages):
    assert ui.page_count(total) == pages


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (1, 20, [1, 2, 3, 4, 5, 6, 7]),
        (10, 20, [7, 8, 9, 10, 11, 12, 13]),
        (20, 20, [14, 15, 16, 17, 18, 19, 20]),
    ],
)
def test_page_buttons_around_the_current_page(page, pages, numbers):
    assert ui.page_numbers(page, pages) == numbers


def test_a_wrapped_table_is_as_tall_as_its_longest_text_needs():
    import pandas as pd

    assert ui.wrap_lines("短") == 1 and ui.wrap_lines(None) == 1 and ui.wrap_lines(float("nan")) == 1
    per_line = ui.WRAP_LINE_UNITS // 2  # CJK characters on a line
    assert ui.wrap_lines("字" * per_line) == 1 and ui.wrap_lines("字" * (per_line + 1)) == 2
    assert ui.wrap_lines("a" * ui.WRAP_LINE_UNITS) == 1  # a Latin character counts half
    assert ui.wrap_lines("第一行\n第二行") == 2  # its own line breaks kept
    short = pd.DataFrame({"原因": ["短", "也短"]})
    assert ui.wrap_row_height(short, ["原因"]) == ui.WRAP_ROW_HEIGHT  # the least at which a cell wraps
    long = pd.DataFrame({"原因": ["短", "依据" * 100]})  # 200 characters: 8 lines
    assert ui.wrap_row_height(long, ["原因"]) == 8 * ui.WRAP_LINE_HEIGHT + 12
    endless = pd.DataFrame({"原因": ["字" * 10_000]})
    assert ui.wrap_row_height(endless, ["原因"]) == ui.WRAP_MAX_LINES * ui.WRAP_LINE_HEIGHT + 12
