"""Field and row rules for one referral file (spec §2, §4, §5 and §6)."""

from __future__ import annotations

import datetime
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.pipeline.columns import COLUMNS, FIELDS, REQUIRED_FIELDS
from imports.pipeline.rules import RulesResult, apply_rules

TODAY = datetime.date(2025, 5, 7)
ROW = 7

VALID_ROW: dict[str, str] = {
    "first_name": "Ann",
    "last_name": "Lee",
    "nino": "AB123456C",
    "po_number": "PO-1001",
    "referral_date": "05/03/2025",
}

# Spec §5, row and field codes (errors and warnings).
SPEC_ROW_CODES = {
    "row.shape",
    "field.required",
    "field.too_long",
    "field.control_chars",
    "nino.format",
    "nino.prefix",
    "date.format",
    "date.future",
    "date_of_birth.range",
    "postcode.format",
    "phone.format",
    "email.format",
    "flag.format",
    "po_number.format",
    "po_number.duplicate",
    "nino.duplicate",
    "email.duplicate",
    "match.ambiguous",
    "match.not_found",
    "match.exists",
    "email.taken",
    "match.nino_mismatch",
    "nino.no_suffix",
    "email.missing",
}
CANONICAL_NAMES = {column.name for column in COLUMNS}


def check_row(**cells: str | None) -> RulesResult:
    """Run the rules on one valid row (index label 7) with `cells` changed."""
    row = {**VALID_ROW, **cells}
    return apply_rules(pd.DataFrame([row], index=[ROW], dtype=object), today=TODAY)


def found(result: RulesResult) -> list[tuple[str, str, str, str]]:
    """The issues as (severity, code, column, message), in reported order."""
    return [
        (issue.severity, issue.code, issue.column, issue.message)
        for issue in result.issues.itertuples(index=False)
    ]


def value(result: RulesResult, field: str) -> object:
    return result.values.at[ROW, field]


# The valid row and the shape of the result


def test_it_accepts_a_valid_row_without_issues() -> None:
    result = check_row()

    assert found(result) == []
    assert value(result, "first_name") == "Ann"
    assert value(result, "nino") == "AB123456C"
    assert value(result, "referral_date") == datetime.date(2025, 3, 5)


def test_values_hold_every_field_and_the_phone_copies_under_the_input_index() -> None:
    frame = pd.DataFrame([VALID_ROW, VALID_ROW], index=[41, 12], dtype=object)

    result = apply_rules(frame, today=TODAY)

    assert list(result.values.columns) == [*FIELDS, "telephone_e164", "mobile_e164"]
    assert list(result.values.index) == [41, 12]
    assert list(result.issues.columns) == ["row", "severity", "code", "column", "message"]


def test_it_fills_columns_the_file_does_not_have() -> None:
    result = check_row()

    assert value(result, "title") == ""
    assert value(result, "postcode") == ""
    assert value(result, "telephone_e164") == ""
    assert value(result, "date_of_birth") is None
    assert value(result, "disability_status") is None


def test_it_reports_the_input_row_label_in_row_then_column_order() -> None:
    frame = pd.DataFrame(
        [
            {**VALID_ROW, "postcode": "XYZ", "first_name": None},
            {**VALID_ROW, "last_name": None},
        ],
        index=[30, 10],
        dtype=object,
    )

    issues = apply_rules(frame, today=TODAY).issues

    assert list(zip(issues["row"], issues["code"], issues["column"], strict=True)) == [
        (30, "field.required", "First Name"),
        (30, "postcode.format", "Postcode"),
        (10, "field.required", "Last Name"),
    ]


# Missing values (§2, §4)


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
@pytest.mark.parametrize("empty", [None, ""])
def test_it_rejects_a_row_missing_a_required_value(field: str, empty: str | None) -> None:
    name = next(c.name for c in COLUMNS if c.field == field)

    result = check_row(**{field: empty})

    assert found(result) == [("error", "field.required", name, f"{name} is required.")]


def test_it_rejects_rows_of_a_file_without_a_required_column() -> None:
    row = {k: v for k, v in VALID_ROW.items() if k != "po_number"}

    result = apply_rules(pd.DataFrame([row], index=[ROW], dtype=object), today=TODAY)

    assert found(result) == [("error", "field.required", "PO Number", "PO Number is required.")]


def test_it_leaves_an_empty_optional_value_empty_without_an_issue() -> None:
    result = check_row(
        title=None, postcode="", telephone=None, email="", date_of_birth=None, incident_marker=""
    )

    assert found(result) == []
    assert value(result, "postcode") == ""
    assert value(result, "telephone_e164") == ""
    assert value(result, "date_of_birth") is None
    assert value(result, "incident_marker") is None


@pytest.mark.parametrize("text", ["NULL", "N/A", "None", "NA"])
def test_it_keeps_placeholder_words_as_real_values(text: str) -> None:
    result = check_row(first_name=text, last_name=text, notes=text)

    assert found(result) == []
    assert value(result, "first_name") == text
    assert value(result, "notes") == text


def test_it_judges_a_placeholder_word_by_the_field_rule_not_as_missing() -> None:
    result = check_row(nino="N/A")

    assert [issue[1] for issue in found(result)] == ["nino.format"]


# Length (§4)


@pytest.mark.parametrize(
    ("field", "name", "limit"),
    [
        ("title", "Title", 20),
        ("first_name", "First Name", 100),
        ("gender", "Gender", 30),
        ("referral_id", "Referral ID", 50),
        ("preferred_hours", "Preferred Hours", 200),
        ("notes", "Notes", 2000),
    ],
)
def test_it_rejects_text_longer_than_the_column_allows(field: str, name: str, limit: int) -> None:
    at_limit = check_row(**{field: "x" * limit})
    over = check_row(**{field: "x" * (limit + 3)})

    assert found(at_limit) == []
    assert value(at_limit, field) == "x" * limit
    assert found(over) == [
        (
            "error",
            "field.too_long",
            name,
            f"{name} is {limit + 3} characters long; at most {limit} are allowed.",
        )
    ]


def test_it_stores_nothing_for_an_over_long_optional_text() -> None:
    assert value(check_row(title="x" * 21), "title") == ""


def test_it_keeps_an_over_long_name_cut_to_its_limit_for_the_report() -> None:
    result = check_row(first_name="A" * 123)

    assert found(result) == [
        (
            "error",
            "field.too_long",
            "First Name",
            "First Name is 123 characters long; at most 100 are allowed.",
        )
    ]
    assert value(result, "first_name") == "A" * 100


# Hidden control characters (§2)


@pytest.mark.parametrize(
    "hidden",
    [
        "\x00",
        "\x07",
        "\x1b",
        "\x1f",
        "\x7f",
        "\u061c",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u200e",
        "\u200f",
        "\u202a",
        "\u202e",
        "\u2060",
        "\u2066",
        "\u2069",
        "\ufeff",
    ],
)
def test_it_rejects_a_hidden_control_character(hidden: str) -> None:
    result = check_row(last_name=f"Le{hidden}e")

    assert found(result) == [
        (
            "error",
            "field.control_chars",
            "Last Name",
            "Last Name contains a hidden control character; remove it and upload again.",
        )
    ]


def test_it_reports_one_control_character_error_per_cell() -> None:
    result = check_row(notes="\x00a\u202eb\u200b")

    assert [issue[1:3] for issue in found(result)] == [("field.control_chars", "Notes")]


def test_it_reports_only_the_control_character_for_a_cell_holding_one() -> None:
    result = check_row(nino="AB123456C\u200b", postcode="SW1A\x001AA")

    assert [issue[1:3] for issue in found(result)] == [
        ("field.control_chars", "National Insurance Number"),
        ("field.control_chars", "Postcode"),
    ]
    assert value(result, "postcode") == ""


def test_it_keeps_a_rejected_name_without_its_hidden_characters() -> None:
    result = check_row(first_name="A\x00nn", nino="ab 123\u202e456 c")

    assert value(result, "first_name") == "Ann"
    assert value(result, "nino") == "AB123456C"


@pytest.mark.parametrize("allowed", ["\t", "\n", "\r\n", "\u00a0", "é", "Zoë"])
def test_it_accepts_tabs_line_breaks_and_ordinary_unicode(allowed: str) -> None:
    result = check_row(notes=f"line one{allowed}line two")

    assert found(result) == []
    assert value(result, "notes") == f"line one{allowed}line two"


# National Insurance number (§6.1)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("AB123456C", "AB123456C"),
        ("ab123456c", "AB123456C"),
        ("AB 12 34 56 C", "AB123456C"),
        ("ab\u00a012\t34 56d", "AB123456D"),
        ("QQ123456C", "QQ123456C"),
        ("CE123456A", "CE123456A"),
    ],
)
def test_it_normalises_a_valid_nino(given: str, stored: str) -> None:
    result = check_row(nino=given)

    assert found(result) == []
    assert value(result, "nino") == stored


def test_it_warns_about_a_nino_without_a_suffix_letter() -> None:
    result = check_row(nino="qq 12 34 56")

    assert found(result) == [
        (
            "warning",
            "nino.no_suffix",
            "National Insurance Number",
            "National Insurance number QQ123456 has no suffix letter.",
        )
    ]
    assert value(result, "nino") == "QQ123456"


@pytest.mark.parametrize(
    "given",
    [
        "AB12",
        "AB1234567C",
        "AB12345C",
        "AB123456E",
        "AB123456CC",
        "A1234567C",
        "123456789",
        "DA123456C",
        "FA123456C",
        "IA123456C",
        "QA123456C",
        "UA123456C",
        "VA123456C",
        "AD123456C",
        "AF123456C",
        "AI123456C",
        "AO123456C",
        "AQ123456C",
        "AU123456C",
        "AV123456C",
        "AB\uff11\uff12\uff13\uff14\uff15\uff16C",  # full-width digits
    ],
)
def test_it_rejects_a_malformed_nino(given: str) -> None:
    result = check_row(nino=given)

    assert found(result) == [
        (
            "error",
            "nino.format",
            "National Insurance Number",
            f"'{given}' is not a valid National Insurance number "
            "(two letters, six digits, a letter A to D).",
        )
    ]


@pytest.mark.parametrize("prefix", ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"])
def test_it_rejects_nino_with_unallocated_prefix(prefix: str) -> None:
    result = check_row(nino=f"{prefix.lower()}123456")

    assert found(result) == [
        (
            "error",
            "nino.prefix",
            "National Insurance Number",
            f"National Insurance numbers never start with {prefix}.",
        )
    ]


def test_it_keeps_a_rejected_nino_normalised_for_the_report() -> None:
    result = check_row(nino="zz 12 34 56 a")

    assert value(result, "nino") == "ZZ123456A"


def test_it_keeps_a_malformed_nino_cut_to_nine_characters() -> None:
    result = check_row(nino="ab 1234 5678 9")

    assert value(result, "nino") == "AB1234567"


# Dates (§6.2)


@pytest.mark.parametrize(
    "given",
    [
        "05/03/2024",
        "5/3/2024",
        "05/3/2024",
        "2024-03-05",
        "05-03-2024",
        "5-3-2024",
        "05-Mar-2024",
        "05-MAR-2024",
        "5-mar-2024",
        "05 Mar 2024",
        "5 MAR 2024",
        "05 mar 2024",
    ],
)
def test_it_accepts_every_contract_date_format(given: str) -> None:
    result = check_row(referral_date=given)

    assert found(result) == []
    assert value(result, "referral_date") == datetime.date(2024, 3, 5)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("29/02/2024", datetime.date(2024, 2, 29)),
        ("31/12/2024", datetime.date(2024, 12, 31)),
        ("01-Jan-2000", datetime.date(2000, 1, 1)),
        ("30 Sep 2024", datetime.date(2024, 9, 30)),
        ("2000-02-29", datetime.date(2000, 2, 29)),
    ],
)
def test_it_reads_the_day_first(given: str, expected: datetime.date) -> None:
    assert value(check_row(referral_date=given), "referral_date") == expected


@pytest.mark.parametrize(
    "given",
    [
        "31/02/2024",
        "29/02/2023",
        "29/02/1900",
        "12/31/2024",
        "00/01/2024",
        "01/13/2024",
        "05/03/24",
        "5/3/24",
        "45356",
        "45356.0",
        "2024/03/05",
        "2024-3-5",
        "05.03.2024",
        "05/03-2024",
        "05-Mar 2024",
        "5 March 2024",
        "05-Sept-2024",
        "05 Mär 2024",
        "05/03/1899",
        "05/03/02024",
        "yesterday",
        "05/03/2024 10:30",
        "\u0660\u0665/\u0660\u0663/\u0662\u0660\u0662\u0664",  # Arabic-Indic digits
    ],
)
def test_it_rejects_a_date_outside_the_contract(given: str) -> None:
    result = check_row(referral_date=given)

    assert found(result) == [
        ("error", "date.format", "Referral Date", f"'{given}' is not a date; use DD/MM/YYYY.")
    ]
    assert value(result, "referral_date") is None


def test_it_accepts_a_referral_dated_today() -> None:
    result = check_row(referral_date="07/05/2025")

    assert found(result) == []


def test_it_rejects_a_referral_date_in_the_future() -> None:
    result = check_row(referral_date="2025-05-08")

    assert found(result) == [
        ("error", "date.future", "Referral Date", "Referral Date 08/05/2025 is in the future.")
    ]
    assert value(result, "referral_date") is None


def test_it_rejects_a_date_of_birth_in_the_future() -> None:
    result = check_row(date_of_birth="01-Jan-2030")

    assert found(result) == [
        ("error", "date.future", "Date of Birth", "Date of Birth 01/01/2030 is in the future.")
    ]
    assert value(result, "date_of_birth") is None


def test_it_rejects_a_badly_written_date_of_birth() -> None:
    result = check_row(date_of_birth="31/02/1990")

    assert found(result) == [
        ("error", "date.format", "Date of Birth", "'31/02/1990' is not a date; use DD/MM/YYYY.")
    ]


# Age on the referral date (§4); the referral date in VALID_ROW is 05/03/2025.


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        ("05/03/2010", datetime.date(2010, 3, 5)),
        ("06/03/1924", datetime.date(1924, 3, 6)),
    ],
)
def test_it_accepts_ages_15_and_100_on_the_referral_date(
    born: str, expected: datetime.date
) -> None:
    result = check_row(date_of_birth=born)

    assert found(result) == []
    assert value(result, "date_of_birth") == expected


@pytest.mark.parametrize(("born", "age"), [("06/03/2010", 14), ("05/03/1924", 101)])
def test_it_rejects_ages_outside_15_to_100_on_the_referral_date(born: str, age: int) -> None:
    result = check_row(date_of_birth=born)

    assert found(result) == [
        (
            "error",
            "date_of_birth.range",
            "Date of Birth",
            f"Age on the referral date would be {age}; it must be between 15 and 100.",
        )
    ]
    assert value(result, "date_of_birth") is None


def test_it_counts_a_leap_day_birthday_from_the_first_of_march() -> None:
    turns_15_on_1_march = check_row(date_of_birth="29/02/2008", referral_date="01/03/2023")
    still_14 = check_row(date_of_birth="29/02/2008", referral_date="28/02/2023")

    assert found(turns_15_on_1_march) == []
    assert [issue[3] for issue in found(still_14)] == [
        "Age on the referral date would be 14; it must be between 15 and 100."
    ]


def test_it_judges_age_on_today_when_the_referral_date_is_missing() -> None:
    # Born 08/05/2010: 14 on TODAY (07/05/2025), though 15 a day later.
    result = check_row(date_of_birth="08/05/2010", referral_date=None)

    assert found(result) == [
        (
            "error",
            "date_of_birth.range",
            "Date of Birth",
            "Age today would be 14; it must be between 15 and 100.",
        ),
        ("error", "field.required", "Referral Date", "Referral Date is required."),
    ]


def test_it_judges_age_on_today_when_the_referral_date_is_in_the_future() -> None:
    result = check_row(date_of_birth="01/01/2015", referral_date="01/01/2031")

    assert [issue[1:] for issue in found(result)] == [
        (
            "date_of_birth.range",
            "Date of Birth",
            "Age today would be 10; it must be between 15 and 100.",
        ),
        ("date.future", "Referral Date", "Referral Date 01/01/2031 is in the future."),
    ]


# Postcode (§6.3)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("sw1a  1aa", "SW1A 1AA"),
        ("M11AE", "M1 1AE"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_it_normalises_every_postcode_shape(given: str, stored: str) -> None:
    result = check_row(postcode=given)

    assert found(result) == []
    assert value(result, "postcode") == stored


@pytest.mark.parametrize(
    "given",
    [
        "XYZ",
        "SW1A",
        "1AA 1AA",
        "SW1A 1AAA",
        "ABC1 1AA",
        "SW1A 11A",
        "SW1A AAA",
        "M1 1CA",
        "M1 1AI",
        "M1 1KA",
        "M1 1AM",
        "M1 1OA",
        "M1 1AV",
        "GIR 0AB",
        "SW1A-1AA",
    ],
)
def test_it_rejects_a_postcode_of_another_shape(given: str) -> None:
    result = check_row(postcode=given)

    assert found(result) == [
        ("error", "postcode.format", "Postcode", f"'{given}' is not a valid UK postcode.")
    ]
    assert value(result, "postcode") == ""


# Phone (§6.4)


@pytest.mark.parametrize(
    ("given", "stored", "e164"),
    [
        ("07700900123", "07700900123", "+447700900123"),
        ("07700 900123", "07700900123", "+447700900123"),
        ("+44 7700 900123", "07700900123", "+447700900123"),
        ("+447700900123", "07700900123", "+447700900123"),
        ("0044 7700 900123", "07700900123", "+447700900123"),
        ("(020) 7946-0000", "02079460000", "+442079460000"),
        ("020.7946.0000", "02079460000", "+442079460000"),
        ("01697 71234", "0169771234", "+44169771234"),
    ],
)
def test_it_normalises_a_phone_number_with_an_e164_copy(given: str, stored: str, e164: str) -> None:
    result = check_row(telephone=given, mobile=given)

    assert found(result) == []
    assert value(result, "telephone") == stored
    assert value(result, "telephone_e164") == e164
    assert value(result, "mobile") == stored
    assert value(result, "mobile_e164") == e164


@pytest.mark.parametrize(
    "given",
    [
        "7700900123",
        "7.7009E+09",
        "7.7009e+09",
        "077009001234",
        "07700 9001",
        "+1 202 555 0100",
        "+44 07700 900123",
        "+44 (0)20 7946 0000",
        "00 7700 900123",
        "07700 9OO123",
        "ring after 6",
    ],
)
def test_it_rejects_a_phone_number_it_cannot_read(given: str) -> None:
    result = check_row(mobile=given)

    assert found(result) == [
        (
            "error",
            "phone.format",
            "Mobile Number",
            f"'{given}' is not a valid UK phone number; it must start with 0 or +44.",
        )
    ]
    assert value(result, "mobile") == ""
    assert value(result, "mobile_e164") == ""


def test_it_keeps_phone_numbers_apart_when_a_neighbour_holds_a_nul() -> None:
    frame = pd.DataFrame(
        [
            {**VALID_ROW, "telephone": "07700 900123"},
            {**VALID_ROW, "telephone": "0770\x000900124"},
            {**VALID_ROW, "telephone": "+44 7700 900125"},
        ],
        index=[1, 2, 3],
        dtype=object,
    )

    result = apply_rules(frame, today=TODAY)

    assert list(result.values["telephone"]) == ["07700900123", "", "07700900125"]
    assert list(result.values["telephone_e164"]) == ["+447700900123", "", "+447700900125"]
    assert list(result.issues["code"]) == ["field.control_chars"]


# Email (§6.5)


def test_it_stores_an_email_in_lower_case() -> None:
    result = check_row(email="Ann.Lee+PRaP@Example.CO.UK")

    assert found(result) == []
    assert value(result, "email") == "ann.lee+prap@example.co.uk"


@pytest.mark.parametrize(
    "given",
    [
        "bob@",
        "@example.com",
        "bob",
        "bob@example",
        "bob@@example.com",
        "bob@ex@ample.com",
        "bob smith@example.com",
        "bob@example .com",
        "bob@.example.com",
        "bob@example.",
        "bob@example..com",
    ],
)
def test_it_rejects_a_malformed_email(given: str) -> None:
    result = check_row(email=given)

    assert found(result) == [
        ("error", "email.format", "Email Address", f"'{given}' is not a valid email address.")
    ]
    assert value(result, "email") == given


def test_it_accepts_an_email_of_254_characters_and_rejects_255() -> None:
    domain = "@example.com"
    longest = "a" * (254 - len(domain)) + domain
    too_long = "a" + longest

    assert found(check_row(email=longest)) == []
    assert [issue[1] for issue in found(check_row(email=too_long))] == ["email.format"]


def test_it_quotes_at_most_50_characters_of_a_bad_value() -> None:
    given = "x" * 300

    result = check_row(email=given)

    assert found(result)[0][3] == f"'{'x' * 50}…' is not a valid email address."
    assert value(result, "email") == given[:254]


# Flags (§6.6) and Voluntary or Mandatory (§4)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Y", True),
        ("y", True),
        ("Yes", True),
        ("YES", True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("N", False),
        ("n", False),
        ("No", False),
        ("nO", False),
        ("False", False),
        ("false", False),
        ("0", False),
    ],
)
def test_it_reads_a_flag_in_any_case(given: str, stored: bool) -> None:
    result = check_row(disability_status=given, incident_marker=given)

    assert found(result) == []
    assert value(result, "disability_status") is stored
    assert value(result, "incident_marker") is stored


@pytest.mark.parametrize("given", ["Maybe", "T", "F", "2", "Yes please", "-1", "NULL"])
def test_it_rejects_a_flag_that_is_not_yes_or_no(given: str) -> None:
    result = check_row(incident_marker=given)

    assert found(result) == [
        (
            "error",
            "flag.format",
            "Incident Marker",
            f"'{given}' is not a yes/no value; use Y or N.",
        )
    ]
    assert value(result, "incident_marker") is None


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("V", "Voluntary"),
        ("v", "Voluntary"),
        ("voluntary", "Voluntary"),
        ("VOLUNTARY", "Voluntary"),
        ("M", "Mandatory"),
        ("m", "Mandatory"),
        ("Mandatory", "Mandatory"),
        ("mAnDaToRy", "Mandatory"),
    ],
)
def test_it_reads_voluntary_or_mandatory_in_any_case(given: str, stored: str) -> None:
    result = check_row(voluntary_mandatory=given)

    assert found(result) == []
    assert value(result, "voluntary_mandatory") == stored


@pytest.mark.parametrize("given", ["X", "Vol", "Mand", "Y", "Voluntary/Mandatory"])
def test_it_rejects_another_voluntary_or_mandatory_value(given: str) -> None:
    result = check_row(voluntary_mandatory=given)

    assert found(result) == [
        (
            "error",
            "flag.format",
            "Voluntary or Mandatory",
            f"'{given}' is not V, M, Voluntary or Mandatory.",
        )
    ]
    assert value(result, "voluntary_mandatory") == ""


# PO number (§4)


@pytest.mark.parametrize("given", ["PO-1001", "po/2024/17", "A", "X" * 30, "12345"])
def test_it_accepts_a_po_number_as_given(given: str) -> None:
    result = check_row(po_number=given)

    assert found(result) == []
    assert value(result, "po_number") == given


@pytest.mark.parametrize("given", ["PO 12#", "PO_1", "PO.1", "PO\u20131", "PÖ1", "X" * 31])
def test_it_rejects_a_po_number_with_other_characters_or_over_30(given: str) -> None:
    result = check_row(po_number=given)

    assert found(result) == [
        (
            "error",
            "po_number.format",
            "PO Number",
            f"'{given}' is not a valid PO number (letters, digits, - and / only, at most 30).",
        )
    ]
    assert value(result, "po_number") == given[:30]


# Several issues


def test_it_reports_every_issue_on_a_row_in_column_order() -> None:
    result = check_row(
        first_name=None,
        nino="AB123456",
        date_of_birth="31/02/1990",
        postcode="XYZ",
        telephone="7700900123",
        email="bob@",
        po_number="PO 12#",
        referral_date="01/01/2030",
        voluntary_mandatory="X",
        disability_status="Maybe",
        notes="n" * 2001,
    )

    assert found(result) == [
        ("error", "field.required", "First Name", "First Name is required."),
        (
            "warning",
            "nino.no_suffix",
            "National Insurance Number",
            "National Insurance number AB123456 has no suffix letter.",
        ),
        ("error", "date.format", "Date of Birth", "'31/02/1990' is not a date; use DD/MM/YYYY."),
        ("error", "postcode.format", "Postcode", "'XYZ' is not a valid UK postcode."),
        (
            "error",
            "phone.format",
            "Telephone Number",
            "'7700900123' is not a valid UK phone number; it must start with 0 or +44.",
        ),
        ("error", "email.format", "Email Address", "'bob@' is not a valid email address."),
        (
            "error",
            "po_number.format",
            "PO Number",
            "'PO 12#' is not a valid PO number (letters, digits, - and / only, at most 30).",
        ),
        ("error", "date.future", "Referral Date", "Referral Date 01/01/2030 is in the future."),
        (
            "error",
            "flag.format",
            "Voluntary or Mandatory",
            "'X' is not V, M, Voluntary or Mandatory.",
        ),
        ("error", "flag.format", "Disability Status", "'Maybe' is not a yes/no value; use Y or N."),
        (
            "error",
            "field.too_long",
            "Notes",
            "Notes is 2001 characters long; at most 2000 are allowed.",
        ),
    ]
    assert value(result, "nino") == "AB123456"
    assert value(result, "email") == "bob@"
    assert value(result, "po_number") == "PO 12#"


def test_it_gives_each_row_of_a_chunk_the_answer_it_gets_alone() -> None:
    rows = [
        {**VALID_ROW, "postcode": "sw1a1aa", "telephone": "+44 20 7946 0000", "email": "A@B.CO"},
        {**VALID_ROW, "nino": "zz 12 34 56", "date_of_birth": "05 Mar 1990"},
        {**VALID_ROW, "postcode": "M1 1AE", "telephone": "bad", "disability_status": "Y"},
        {**VALID_ROW, "referral_date": "05/03/2025", "date_of_birth": "05/03/2012"},
        {**VALID_ROW, "nino": "AB 12 34 56 C", "voluntary_mandatory": "m", "mobile": "07700900123"},
        {**VALID_ROW, "first_name": "B\u200bo", "incident_marker": "no", "postcode": "XYZ"},
    ]
    frame = pd.DataFrame(rows, index=[60, 50, 40, 30, 20, 10], dtype=object)

    together = apply_rules(frame, today=TODAY)

    for label in frame.index:
        alone = apply_rules(frame.loc[[label]], today=TODAY)
        pd.testing.assert_frame_equal(together.values.loc[[label]], alone.values, check_dtype=False)
        pd.testing.assert_frame_equal(
            together.issues[together.issues["row"] == label].reset_index(drop=True),
            alone.issues,
            check_dtype=False,
        )


# Any input at all


_CELL = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "NULL",
            "AB123456C",
            "zz123456",
            "05/03/2024",
            "29/02/2023",
            "5 Mar 1990",
            "01/01/2030",
            "SW1A 1AA",
            "gir0aa",
            "+44 7700 900123",
            "0770\x00900123",
            "bob@example.com",
            "bob@",
            "Y",
            "maybe",
            "V",
            "PO-1/2",
            "a\u202eb",
            "x" * 2001,
        ]
    ),
)
_OPTIONAL_FIELDS = [field for field in FIELDS if field not in REQUIRED_FIELDS]
_UK_PHONE = re.compile(r"0[0-9]{9,10}")
_POSTCODE_SHAPE = re.compile(r"[A-Z0-9]{2,4} [0-9][A-Z]{2}")


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    fields = [*REQUIRED_FIELDS, *draw(st.sets(st.sampled_from(_OPTIONAL_FIELDS)))]
    rows = draw(st.integers(min_value=1, max_value=4))
    data = {field: draw(st.lists(_CELL, min_size=rows, max_size=rows)) for field in fields}
    labels = draw(st.lists(st.integers(-(2**62), 2**62), min_size=rows, max_size=rows, unique=True))
    return pd.DataFrame(data, index=labels, dtype=object)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames(), today=st.dates(min_value=datetime.date(1990, 1, 1)))
def test_any_text_in_any_field_gives_a_result_with_contract_codes(
    frame: pd.DataFrame, today: datetime.date
) -> None:
    result = apply_rules(frame, today=today)

    assert list(result.values.index) == list(frame.index)
    assert set(result.issues["code"]) <= SPEC_ROW_CODES
    assert set(result.issues["severity"]) <= {"error", "warning"}
    assert set(result.issues["column"]) <= CANONICAL_NAMES
    assert set(result.issues["row"]) <= set(frame.index)
    for field in ("telephone", "mobile"):
        for phone, e164 in zip(result.values[field], result.values[f"{field}_e164"], strict=True):
            assert phone == "" or (_UK_PHONE.fullmatch(phone) and e164 == "+44" + phone[1:])
    assert all(p == "" or _POSTCODE_SHAPE.fullmatch(p) for p in result.values["postcode"])
    for field in ("referral_date", "date_of_birth"):
        assert all(d is None or type(d) is datetime.date for d in result.values[field])
    for field in ("disability_status", "incident_marker"):
        assert all(flag in (True, False, None) for flag in result.values[field])
