import datetime

import pytest

from prap_portal.spreadsheet import safe_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+441234", "'+441234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
    ],
)
def test_it_neutralises_text_a_spreadsheet_would_run(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Alice", "Alice"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("", ""),
        ("07700900123", "07700900123"),
        ("'quoted", "'quoted"),
    ],
)
def test_it_leaves_ordinary_text_alone(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def test_it_writes_numbers_flags_dates_and_missing_values_plainly() -> None:
    assert safe_cell(-5) == "-5"
    assert safe_cell(3) == "3"
    assert safe_cell(True) == "Yes"
    assert safe_cell(False) == "No"
    assert safe_cell(None) == ""
    assert safe_cell(datetime.date(2024, 3, 1)) == "2024-03-01"
    assert (
        safe_cell(datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.UTC))
        == "2024-03-01T09:30:00+00:00"
    )
