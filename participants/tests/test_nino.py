import pytest

from participants.nino import nino_display, nino_mask, nino_normalise, nino_search_prefix


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("qq 12 34 56 c", "QQ123456C"), (" QQ123456C ", "QQ123456C"), ("qq\t123456", "QQ123456")],
)
def test_it_normalises_case_and_white_space(typed: str, expected: str) -> None:
    assert nino_normalise(typed) == expected


def test_it_groups_a_nino_for_display() -> None:
    assert nino_display("QQ123456C") == "QQ 12 34 56 C"


def test_it_groups_a_nino_without_suffix() -> None:
    assert nino_display("QQ123456") == "QQ 12 34 56"


def test_it_masks_all_but_prefix_last_digits_and_suffix() -> None:
    assert nino_mask("QQ123456C") == "QQ •• •• 56 C"


def test_it_masks_a_nino_without_suffix() -> None:
    assert nino_mask("QQ123456") == "QQ •• •• 56"


def test_it_masks_a_short_value_whole() -> None:
    assert nino_mask("QQ12") == "••"


def test_empty_values_stay_empty() -> None:
    assert nino_display("") == ""
    assert nino_mask("") == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("QQ 12", "QQ12"),
        ("qq 12 34 56 c", "QQ123456C"),
        ("QQ123456", "QQ123456"),
        ("Al", None),
        ("Adams", None),
        ("QQ123456E", None),
        ("PO-123", None),
    ],
)
def test_it_recognises_what_looks_like_the_start_of_a_nino(
    typed: str, expected: str | None
) -> None:
    assert nino_search_prefix(typed) == expected
