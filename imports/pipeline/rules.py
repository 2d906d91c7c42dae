"""Row and field rules for one PRaP referral file (spec §2, §4, §5 and §6).

Plain pandas and numpy, no Django. `apply_rules` takes the cells of one chunk
of rows and answers the normalised values plus the issues found. Every rule
works on whole columns at once, because files run to tens of thousands of rows.

Decisions the contract leaves open, taken here:

- Voluntary or Mandatory has no code of its own in §5, whose list is closed. It
  is a fixed-choice field like a flag, so a bad value is `flag.format` with the
  message "'X' is not V, M, Voluntary or Mandatory."
- Dates (§6.2): `DD/MM/YYYY`, `D/M/YYYY`, `DD-MM-YYYY`, `D-M-YYYY`,
  `YYYY-MM-DD` (two-digit month and day), `DD-Mon-YYYY` and `DD Mon YYYY`
  (day of one or two digits). "Mon" is a three-letter English month
  abbreviation, Jan to Dec, in any case; "Sept" and full month names are
  `date.format`. Separators may not be mixed (`05/03-2024`). Years are four
  digits, 1900 or later.
- Date of Birth on the day of the upload is not in the future; it fails the
  age rule instead. When the referral date is missing, not a date
  or in the future, the age is taken on `today` and the message says "Age
  today would be ...".
- A cell holding a hidden control character gets `field.control_chars` and no
  other issue: every other rule would be judging text the person cannot see.
- A cell missing from a required column gets only `field.required`.
- A NINO with an unallocated prefix gets `nino.prefix` but not also the
  `nino.no_suffix` warning: the row is rejected anyway.
- The prefix `QQ` is accepted although §6.1 bars `Q`: it is the contract's own
  example NINO (`QQ123456C`) and the one used in test and demo data.
- A phone number's national part never starts with 0 (`+44 0 7700 90012`,
  `00 7700 900123` are `phone.format`): such a number would give a broken
  E.164 copy. `+44 (0)20 ...` is `phone.format` too, as §6.4 reads.
- The email rule asks for a non-empty part on each side of every dot in the
  domain (`bob@example.` and `bob@.com` are `email.format`).
- `email.missing` is not raised here: whether it applies depends on the
  wizard's create and update options.
- A value that fails its rule is stored as "" (None for dates and flags),
  except First Name, Last Name, National Insurance Number, Email Address and
  PO Number, which keep the text as given (the NINO in upper case without
  spaces, all with hidden control characters removed, since PostgreSQL refuses
  NUL) cut to their maximum length, so the report can show whose row it was.
- Values quoted in messages are cut to 50 characters.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imports.pipeline.columns import (
    COLUMNS,
    COLUMNS_BY_FIELD,
    DATE,
    EMAIL,
    FIELDS,
    FLAG,
    NINO,
    PHONE,
    PO_NUMBER,
    POSTCODE,
    TEXT,
    VOLUNTARY_MANDATORY,
    Column,
)

ISSUE_COLUMNS: tuple[str, ...] = ("row", "severity", "code", "column", "message")
E164_FIELDS: dict[str, str] = {"telephone": "telephone_e164", "mobile": "mobile_e164"}

# Fields whose text is kept, cut to these lengths, even when it fails its rule,
# so a rejected row can still be recognised in the report.
_KEPT_LENGTHS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "nino": 9,
    "email": 254,
    "po_number": 30,
}
_COLUMN_ORDER: dict[str, int] = {c.name: i for i, c in enumerate(COLUMNS)}
_QUOTE_LIMIT = 50

# Python's `re` semantics whatever string storage pandas would pick by default.
_STR = pd.StringDtype(storage="python", na_value=np.nan)

_CONTROL_CHARS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
# Every white space character, for deleting with `str.translate`: the same set
# as `\s` in `re`, and U+3000 is the last of them.
_WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_DELETE_WHITESPACE = str.maketrans("", "", _WHITESPACE)

# §6.1: D F I Q U V never in the prefix, O never second; QQ is the documented example.
_NINO = re.compile(r"(?:QQ|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[0-9]{6}[A-D]?")
_NINO_UNALLOCATED = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
_NINO_ALLOCATED = re.compile(rf"(?!{'|'.join(_NINO_UNALLOCATED)}){_NINO.pattern}")

_DATE = re.compile(
    r"^(?:(?P<d1>[0-9]{1,2})(?P<s1>[/-])(?P<m1>[0-9]{1,2})(?P=s1)(?P<y1>[0-9]{4})"
    r"|(?P<y2>[0-9]{4})-(?P<m2>[0-9]{2})-(?P<d2>[0-9]{2})"
    r"|(?P<d3>[0-9]{1,2})(?P<s3>[- ])(?P<mon>[A-Za-z]{3})(?P=s3)(?P<y3>[0-9]{4}))\Z"
)
_DATE_USUAL = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
_MONTHS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_EARLIEST_YEAR = 1900
_MIN_AGE = 15
_MAX_AGE = 100

# §6.3: the inward letters never include C I K M O V.
_POSTCODE = re.compile(
    r"(?:[A-Z][0-9]{1,2}|[A-Z]{2}[0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z]{2}[0-9][A-Z])"
    r" [0-9][ABD-HJLNP-UW-Z]{2}"
    r"|GIR 0AA"
)

_DELETE_PHONE_PUNCTUATION = str.maketrans("", "", _WHITESPACE + "().-")
# 0, +44 or 0044, then the national number, which never starts with 0.
_PHONE = re.compile(r"(?:0|\+44|0044)[1-9][0-9]{8,9}")

_EMAIL_MAX_LENGTH = 254
_EMAIL = re.compile(rf"(?=.{{1,{_EMAIL_MAX_LENGTH}}}\Z)[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")

_PO_NUMBER = re.compile(r"[A-Za-z0-9/-]{1,30}")

_FLAG_TRUE = ("y", "yes", "true", "1")
_FLAG_FALSE = ("n", "no", "false", "0")
_VOLUNTARY_MANDATORY: dict[str, str] = {
    "v": "Voluntary",
    "voluntary": "Voluntary",
    "m": "Mandatory",
    "mandatory": "Mandatory",
}


@dataclass
class RulesResult:
    """The outcome of the rules for one chunk of rows.

    `values` has the input's index and one column per field in
    `columns.FIELDS` plus `telephone_e164` and `mobile_e164`. `issues` has one
    row per problem found, with the columns in `ISSUE_COLUMNS`.
    """

    values: pd.DataFrame
    issues: pd.DataFrame


@dataclass
class _Dates:
    """Dates parsed from one column: year, month and day, valid where `ok`."""

    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    ok: np.ndarray

    @classmethod
    def none(cls, rows: int) -> _Dates:
        zeros = np.zeros(rows, dtype=np.int64)
        return cls(year=zeros, month=zeros, day=zeros, ok=np.zeros(rows, dtype=bool))

    def as_date64(self) -> np.ndarray:
        years = (np.where(self.ok, self.year, 1970) - 1970).astype("M8[Y]")
        months = years.astype("M8[M]") + (np.where(self.ok, self.month, 1) - 1).astype("m8[M]")
        days = months.astype("M8[D]") + (np.where(self.ok, self.day, 1) - 1).astype("m8[D]")
        return np.where(self.ok, days, np.datetime64("NaT", "D"))


class _IssueLog:
    """Collects issues column by column and hands them back in row order."""

    def __init__(self, index: pd.Index) -> None:
        self._index = index
        self._positions = np.arange(len(index))
        self._parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: np.ndarray,
        severity: str,
        code: str,
        column: Column,
        message: str | Callable[[], pd.Series | list[str]],
    ) -> None:
        """Record an issue for every row in `mask`.

        `message` is one text for all of them, or a function answering one per
        masked row; it is only called when there is something to report.
        """
        if not mask.any():
            return
        messages = message if isinstance(message, str) else message()
        if isinstance(messages, pd.Series):
            messages = messages.to_numpy(dtype=object)
        self._parts.append(
            pd.DataFrame(
                {
                    "row": self._index[mask],
                    "severity": severity,
                    "code": code,
                    "column": column.name,
                    "message": messages,
                    "_position": self._positions[mask],
                    "_column": _COLUMN_ORDER[column.name],
                    "_sequence": len(self._parts),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame(
                {
                    "row": pd.Series([], dtype=self._index.dtype),
                    **{name: pd.Series([], dtype=str) for name in ISSUE_COLUMNS[1:]},
                }
            )
        issues = pd.concat(self._parts, ignore_index=True)
        issues = issues.sort_values(["_position", "_column", "_sequence"], kind="stable")
        return issues.loc[:, list(ISSUE_COLUMNS)].reset_index(drop=True)


_Rule = Callable[[pd.Series, np.ndarray, Column, _IssueLog], tuple[pd.Series, np.ndarray]]


def apply_rules(frame: pd.DataFrame, *, today: datetime.date) -> RulesResult:
    """Check and normalise every cell of `frame` against spec §2, §4 and §6.

    `frame` holds the columns of one file that match `columns.FIELDS`, each
    cell a trimmed `str` or None (an empty cell; "" counts the same). `today`
    is the date future dates and ages are judged against.

    Returns the normalised values (text "" when missing; dates as
    `datetime.date` or None; flags True, False or None; NINO, postcode, phone
    and email normalised, with E.164 copies of the phones) and every issue
    found: one per failing cell and rule, with the input row's index label,
    severity, code, canonical column name and a message a person can act on.
    """
    rows = len(frame)
    log = _IssueLog(frame.index)
    values: dict[str, pd.Series | np.ndarray] = {}
    dates: dict[str, _Dates] = {}

    for column in COLUMNS:
        if column.field not in frame.columns:
            if column.required:
                log.add(np.ones(rows, dtype=bool), *_required(column))
            values.update(_absent(column, rows))
            if column.kind == DATE:
                dates[column.field] = _Dates.none(rows)
            continue

        cells = frame[column.field].fillna("").astype(_STR)
        missing = cells.to_numpy() == ""
        if column.required:
            log.add(missing, *_required(column))
        hidden = _control_chars(cells)
        log.add(
            hidden,
            "error",
            "field.control_chars",
            column,
            f"{column.name} contains a hidden control character; remove it and upload again.",
        )
        check = ~missing & ~hidden

        if column.kind == DATE:
            dates[column.field] = _parse_dates(cells, check, column, log)
        elif column.kind == FLAG:
            values[column.field] = _flag(cells, check, column, log)
        elif column.kind == PHONE:
            phone, e164 = _phone(cells, check, column, log)
            values[column.field], values[E164_FIELDS[column.field]] = phone, e164
        else:
            value, ok = _RULES[column.kind](cells, check, column, log)
            if not ok.all():
                value = value.where(ok, "")
                failed = ~ok & ~missing
                if column.field in _KEPT_LENGTHS and failed.any():
                    value[failed] = _display(cells[failed], column).to_numpy()
            values[column.field] = value

    values.update(_date_rules(dates, today, log))
    ordered = {name: values[name] for name in (*FIELDS, *E164_FIELDS.values())}
    return RulesResult(values=pd.DataFrame(ordered, index=frame.index), issues=log.frame())


def _required(column: Column) -> tuple[str, str, Column, str]:
    return ("error", "field.required", column, f"{column.name} is required.")


def _absent(column: Column, rows: int) -> dict[str, np.ndarray]:
    """Values for a column the file does not have."""
    if column.kind in (DATE, FLAG):
        return {column.field: np.full(rows, None, dtype=object)}
    absent = {column.field: np.full(rows, "", dtype=object)}
    if column.kind == PHONE:
        absent[E164_FIELDS[column.field]] = np.full(rows, "", dtype=object)
    return absent


def _control_chars(cells: pd.Series) -> np.ndarray:
    # Hidden characters are rare, so one look at the whole column settles most
    # files. Every control character is unprintable; most unprintable text is
    # just a tab, line break or no-break space, and gets the closer look.
    joined = "".join(cells.tolist())
    if joined.isprintable() or not _CONTROL_CHARS.search(joined):
        return np.zeros(len(cells), dtype=bool)
    return cells.str.contains(_CONTROL_CHARS, regex=True).to_numpy(dtype=bool)


def _on_joined(cells: pd.Series, change: Callable[[str], str]) -> pd.Series:
    """Apply `change` to the whole column at once, joined up with NUL between cells.

    One call over the column instead of one per cell. `change` must leave NUL
    alone and never match across it; cells already holding a NUL of their own
    (rejected for it anyway) make the column go cell by cell instead.
    """
    joined = "\0".join(cells.tolist())
    if len(cells) == 0 or joined.count("\0") != len(cells) - 1:
        return cells.map(change).astype(_STR)
    return pd.Series(change(joined).split("\0"), index=cells.index, dtype=_STR)


def _delete_whitespace(text: str) -> str:
    return text.translate(_DELETE_WHITESPACE)


def _delete_phone_punctuation(text: str) -> str:
    return text.translate(_DELETE_PHONE_PUNCTUATION)


def _drop_trunk_prefix(text: str) -> str:
    # Every number here is valid, so each starts with exactly one of the
    # prefixes; the national part never starts with 0, so 0044 is not 0 + 044.
    text = "\0" + text
    for prefix in ("+44", "0044", "0"):
        text = text.replace("\0" + prefix, "\0")
    return text[1:]


def _fullmatch(cells: pd.Series, where: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    """Whether each cell in `where` matches `pattern` whole; False elsewhere.

    Optional columns are often mostly empty, so only the cells that need it
    are matched. The pattern runs straight over the cells' text: pandas'
    string methods add a good deal of work per cell around each match.
    """
    matches = np.zeros(len(cells), dtype=bool)
    if where.all():
        matches[:] = _fullmatches(cells.tolist(), pattern)
    elif where.any():
        matches[where] = _fullmatches(cells[where].tolist(), pattern)
    return matches


def _fullmatches(texts: list[str], pattern: re.Pattern[str]) -> np.ndarray:
    matched = map(pattern.fullmatch, texts)
    return np.fromiter((match is not None for match in matched), dtype=bool, count=len(texts))


def _lengths(cells: pd.Series) -> np.ndarray:
    """The length of each cell, counted straight from the text."""
    return np.fromiter(map(len, cells.tolist()), dtype=np.int64, count=len(cells))


def _uniques(cells: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The distinct values of a column and, per row, the position of its value.

    Dates, flags and fixed choices repeat a lot, so their rules run on the
    distinct values only and the answers are spread back with the positions.
    """
    codes, uniques = pd.factorize(cells)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=_STR)


def _quote(cells: pd.Series) -> pd.Series:
    long = (cells.str.len() > _QUOTE_LIMIT).to_numpy(dtype=bool)
    if long.any():
        cells = cells.where(~long, cells.str[:_QUOTE_LIMIT] + "…")
    return "'" + cells + "'"


def _display(cells: pd.Series, column: Column) -> pd.Series:
    """The text kept for a failed identity cell: as given, but safe to store and show."""
    cells = cells.str.replace(_CONTROL_CHARS, "", regex=True)
    if column.kind == NINO:
        cells = _on_joined(cells.str.upper(), _delete_whitespace)
    return cells.str[: _KEPT_LENGTHS[column.field]]


def _text(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, np.ndarray]:
    lengths = _lengths(cells)
    too_long = check & (lengths > column.max_length)
    log.add(
        too_long,
        "error",
        "field.too_long",
        column,
        lambda: [
            f"{column.name} is {length} characters long; at most {column.max_length} are allowed."
            for length in lengths[too_long]
        ],
    )
    return cells, check & ~too_long


def _nino(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, np.ndarray]:
    normal = _on_joined(cells.str.upper(), _delete_whitespace)
    ok = _fullmatch(normal, check, _NINO_ALLOCATED)
    rest = check & ~ok
    # The few that fail are told apart: a bad shape, or a well-formed NINO
    # with a prefix that is never issued.
    unallocated = _fullmatch(normal, rest, _NINO)
    bad_shape = rest & ~unallocated
    log.add(
        bad_shape,
        "error",
        "nino.format",
        column,
        lambda: (
            _quote(cells[bad_shape])
            + " is not a valid National Insurance number (two letters, six digits, a letter A to D)."
        ),
    )
    log.add(
        unallocated,
        "error",
        "nino.prefix",
        column,
        lambda: "National Insurance numbers never start with " + normal[unallocated].str[:2] + ".",
    )
    no_suffix = ok & (_lengths(normal) == 8)
    log.add(
        no_suffix,
        "warning",
        "nino.no_suffix",
        column,
        lambda: "National Insurance number " + normal[no_suffix] + " has no suffix letter.",
    )
    return normal, ok


def _postcode(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, np.ndarray]:
    # Most postcodes arrive already in the stored form; only the rest are reshaped.
    normal = cells.copy()
    ok = _fullmatch(cells, check, _POSTCODE)
    rest = check & ~ok
    if rest.any():
        packed = _on_joined(cells[rest].str.upper(), _delete_whitespace)
        normal[rest] = (packed.str[:-3] + " " + packed.str[-3:]).to_numpy()
        ok = ok | _fullmatch(normal, rest, _POSTCODE)
    bad = check & ~ok
    log.add(
        bad,
        "error",
        "postcode.format",
        column,
        lambda: _quote(cells[bad]) + " is not a valid UK postcode.",
    )
    return normal, ok


def _phone(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, pd.Series]:
    """The numbers in national form and in E.164, both "" where not valid."""
    packed = _on_joined(cells, _delete_phone_punctuation)
    ok = _fullmatch(packed, check, _PHONE)
    national = _on_joined(packed.where(ok, ""), _drop_trunk_prefix)
    bad = check & ~ok
    log.add(
        bad,
        "error",
        "phone.format",
        column,
        lambda: (
            _quote(cells[bad]) + " is not a valid UK phone number; it must start with 0 or +44."
        ),
    )
    return ("0" + national).where(ok, ""), ("+44" + national).where(ok, "")


def _email(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, np.ndarray]:
    normal = cells.str.lower()
    ok = _fullmatch(normal, check, _EMAIL)
    bad = check & ~ok
    log.add(
        bad,
        "error",
        "email.format",
        column,
        lambda: _quote(cells[bad]) + " is not a valid email address.",
    )
    return normal, ok


def _po_number(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, np.ndarray]:
    ok = _fullmatch(cells, check, _PO_NUMBER)
    bad = check & ~ok
    log.add(
        bad,
        "error",
        "po_number.format",
        column,
        lambda: (
            _quote(cells[bad])
            + " is not a valid PO number (letters, digits, - and / only, at most 30)."
        ),
    )
    return cells, ok


def _voluntary_mandatory(
    cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog
) -> tuple[pd.Series, np.ndarray]:
    codes, uniques = _uniques(cells)
    choices = uniques.str.lower().map(_VOLUNTARY_MANDATORY).fillna("").to_numpy(dtype=object)
    normal = pd.Series(choices[codes], index=cells.index, dtype=_STR)
    ok = check & (normal != "").to_numpy(dtype=bool)
    bad = check & ~ok
    log.add(
        bad,
        "error",
        "flag.format",
        column,
        lambda: _quote(cells[bad]) + " is not V, M, Voluntary or Mandatory.",
    )
    return normal, ok


_RULES: dict[str, _Rule] = {
    TEXT: _text,
    NINO: _nino,
    POSTCODE: _postcode,
    EMAIL: _email,
    PO_NUMBER: _po_number,
    VOLUNTARY_MANDATORY: _voluntary_mandatory,
}


def _flag(cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog) -> np.ndarray:
    codes, uniques = _uniques(cells)
    lower = uniques.str.lower()
    true = check & lower.isin(_FLAG_TRUE).to_numpy(dtype=bool)[codes]
    false = check & lower.isin(_FLAG_FALSE).to_numpy(dtype=bool)[codes]
    bad = check & ~true & ~false
    log.add(
        bad,
        "error",
        "flag.format",
        column,
        lambda: _quote(cells[bad]) + " is not a yes/no value; use Y or N.",
    )
    value = np.full(len(cells), None, dtype=object)
    value[true] = True
    value[false] = False
    return value


def _parse_dates(cells: pd.Series, check: np.ndarray, column: Column, log: _IssueLog) -> _Dates:
    codes, uniques = _uniques(cells)
    day, month, year = (part[codes] for part in _read_dates(uniques))

    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_lengths = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    month_length = month_lengths[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok = (
        check
        & (year >= _EARLIEST_YEAR)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= month_length)
    )
    bad = check & ~ok
    log.add(
        bad,
        "error",
        "date.format",
        column,
        lambda: _quote(cells[bad]) + " is not a date; use DD/MM/YYYY.",
    )
    return _Dates(year=year, month=month, day=day, ok=ok)


def _read_dates(texts: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day, month and year of each text written in a contract format, else 0, 0, 0."""
    day, month, year = (np.zeros(len(texts), dtype=np.int64) for _ in range(3))
    # DD/MM/YYYY, by far the usual form, is read straight from its digits.
    usual = texts.str.fullmatch(_DATE_USUAL).to_numpy(dtype=bool)
    if usual.any():
        characters = np.array(texts[usual].tolist(), dtype="U10").view(np.uint32)
        digits = characters.reshape(-1, 10).astype(np.int64) - ord("0")
        day[usual] = digits[:, 0] * 10 + digits[:, 1]
        month[usual] = digits[:, 3] * 10 + digits[:, 4]
        year[usual] = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    rest = ~usual
    if rest.any():
        parts = texts[rest].str.extract(_DATE)
        day[rest] = _as_int(parts["d1"].fillna(parts["d2"]).fillna(parts["d3"]))
        year[rest] = _as_int(parts["y1"].fillna(parts["y2"]).fillna(parts["y3"]))
        names = parts["mon"].str.lower().map(_MONTHS).fillna(0).to_numpy(dtype=np.int64)
        month[rest] = np.where(names > 0, names, _as_int(parts["m1"].fillna(parts["m2"])))
    return day, month, year


def _as_int(digits: pd.Series) -> np.ndarray:
    return digits.fillna("0").astype(np.int64).to_numpy()


def _date_rules(
    dates: dict[str, _Dates], today: datetime.date, log: _IssueLog
) -> dict[str, np.ndarray]:
    referral_column = COLUMNS_BY_FIELD["referral_date"]
    birth_column = COLUMNS_BY_FIELD["date_of_birth"]
    today64 = np.datetime64(today, "D")
    referral = dates["referral_date"]
    birth = dates["date_of_birth"]
    referral64 = referral.as_date64()
    birth64 = birth.as_date64()

    referral_future = referral.ok & (referral64 > today64)
    log.add(
        referral_future,
        "error",
        "date.future",
        referral_column,
        lambda: [
            f"Referral Date {_format_date(day)} is in the future."
            for day in referral64[referral_future]
        ],
    )
    birth_future = birth.ok & (birth64 > today64)
    log.add(
        birth_future,
        "error",
        "date.future",
        birth_column,
        lambda: [
            f"Date of Birth {_format_date(day)} is in the future." for day in birth64[birth_future]
        ],
    )

    # Age in whole years on the referral date, or on `today` when that date is unusable.
    on_referral = referral.ok & ~referral_future
    on_year = np.where(on_referral, referral.year, today.year)
    on_month_day = np.where(
        on_referral, referral.month * 100 + referral.day, today.month * 100 + today.day
    )
    age = on_year - birth.year - (on_month_day < birth.month * 100 + birth.day)
    out_of_range = birth.ok & ~birth_future & ((age < _MIN_AGE) | (age > _MAX_AGE))
    log.add(
        out_of_range,
        "error",
        "date_of_birth.range",
        birth_column,
        lambda: [
            f"Age {'on the referral date' if referral_day else 'today'} would be {years}; "
            f"it must be between {_MIN_AGE} and {_MAX_AGE}."
            for years, referral_day in zip(
                age[out_of_range], on_referral[out_of_range], strict=True
            )
        ],
    )

    return {
        "referral_date": _as_dates(referral64, on_referral),
        "date_of_birth": _as_dates(birth64, birth.ok & ~birth_future & ~out_of_range),
    }


def _format_date(day: np.datetime64) -> str:
    return day.astype(object).strftime("%d/%m/%Y")


def _as_dates(days: np.ndarray, ok: np.ndarray) -> np.ndarray:
    value = np.full(len(days), None, dtype=object)
    value[ok] = days[ok].astype(object)
    return value
