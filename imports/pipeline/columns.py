"""The contract's columns (spec §3 and §4): names, aliases, sections and rules.

Plain Python, no Django: the import pipeline, the models and the PRaP Details
tab all read their field lists from here, so a new column is added once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERSONAL = "Personal information"
CONTACT = "Contact information"
REFERRAL = "Referral details"
ADDITIONAL = "Additional details"
SECTIONS = (PERSONAL, CONTACT, REFERRAL, ADDITIONAL)

# Kinds of rule a column follows; the pipeline's rules module implements each.
TEXT = "text"
NINO = "nino"
DATE = "date"
POSTCODE = "postcode"
PHONE = "phone"
EMAIL = "email"
FLAG = "flag"
PO_NUMBER = "po_number"
VOLUNTARY_MANDATORY = "voluntary_mandatory"


@dataclass(frozen=True)
class Column:
    name: str  # canonical name, as printed in reports
    field: str  # model field / staged data key
    section: str
    kind: str = TEXT
    required: bool = False
    max_length: int | None = None
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    # Personal information
    Column("Title", "title", PERSONAL, max_length=20, aliases=("Salutation",)),
    Column(
        "First Name",
        "first_name",
        PERSONAL,
        required=True,
        max_length=100,
        aliases=("Forename", "Forenames", "Given Name"),
    ),
    Column(
        "Middle Names",
        "middle_names",
        PERSONAL,
        max_length=100,
        aliases=("Middle Name", "Other Forenames"),
    ),
    Column(
        "Last Name",
        "last_name",
        PERSONAL,
        required=True,
        max_length=100,
        aliases=("Surname", "Family Name"),
    ),
    Column(
        "National Insurance Number",
        "nino",
        PERSONAL,
        kind=NINO,
        required=True,
        aliases=("NINO", "NI Number", "NI No", "National Insurance No"),
    ),
    Column("Date of Birth", "date_of_birth", PERSONAL, kind=DATE, aliases=("DOB", "Birth Date")),
    Column("Gender", "gender", PERSONAL, max_length=30, aliases=("Sex",)),
    Column(
        "Welsh Language",
        "welsh_language",
        PERSONAL,
        max_length=30,
        aliases=("Welsh Language Preference",),
    ),
    # Contact information
    Column(
        "Address Line 1",
        "address_line_1",
        CONTACT,
        max_length=100,
        aliases=("Address 1", "Address1"),
    ),
    Column("Address Line 2", "address_line_2", CONTACT, max_length=100, aliases=("Address 2",)),
    Column("Address Line 3", "address_line_3", CONTACT, max_length=100, aliases=("Address 3",)),
    Column("Town", "town", CONTACT, max_length=100, aliases=("Town/City", "City", "Post Town")),
    Column("County", "county", CONTACT, max_length=100),
    Column("Postcode", "postcode", CONTACT, kind=POSTCODE, aliases=("Post Code",)),
    Column(
        "Telephone Number",
        "telephone",
        CONTACT,
        kind=PHONE,
        aliases=("Telephone", "Phone", "Home Phone"),
    ),
    Column(
        "Mobile Number",
        "mobile",
        CONTACT,
        kind=PHONE,
        aliases=("Mobile", "Other Telephone Number"),
    ),
    Column("Email Address", "email", CONTACT, kind=EMAIL, aliases=("Email", "E-mail")),
    # Referral details
    Column(
        "PO Number",
        "po_number",
        REFERRAL,
        kind=PO_NUMBER,
        required=True,
        max_length=30,
        aliases=("PO No", "Purchase Order Number", "PO"),
    ),
    Column("Referral ID", "referral_id", REFERRAL, max_length=50, aliases=("Referral Reference",)),
    Column(
        "Referral Date",
        "referral_date",
        REFERRAL,
        kind=DATE,
        required=True,
        aliases=("Date of Referral",),
    ),
    Column("Programme", "programme", REFERRAL, max_length=100, aliases=("Program", "Provision")),
    Column(
        "Contract",
        "contract",
        REFERRAL,
        max_length=100,
        aliases=("Contract Package Area", "CPA"),
    ),
    Column("Opportunity Type", "opportunity_type", REFERRAL, max_length=100),
    Column(
        "Customer Group",
        "customer_group",
        REFERRAL,
        max_length=100,
        aliases=("Eligibility Group",),
    ),
    Column("Benefit Type", "benefit_type", REFERRAL, max_length=50, aliases=("Benefit",)),
    Column(
        "Jobcentre",
        "jobcentre",
        REFERRAL,
        max_length=100,
        aliases=("Jobcentre Office", "JCP Office"),
    ),
    Column("Work Coach", "work_coach", REFERRAL, max_length=100, aliases=("Work Coach Name",)),
    Column(
        "Voluntary or Mandatory",
        "voluntary_mandatory",
        REFERRAL,
        kind=VOLUNTARY_MANDATORY,
        aliases=("Voluntary/Mandatory", "Mandatory"),
    ),
    # Additional details
    Column(
        "Disability Status",
        "disability_status",
        ADDITIONAL,
        kind=FLAG,
        aliases=("Disability", "Disabled"),
    ),
    Column("Incident Marker", "incident_marker", ADDITIONAL, kind=FLAG, aliases=("Incident Flag",)),
    Column(
        "Reasonable Adjustments",
        "reasonable_adjustments",
        ADDITIONAL,
        max_length=2000,
        aliases=("Additional Support",),
    ),
    Column(
        "Driving Licence",
        "driving_licence",
        ADDITIONAL,
        max_length=50,
        aliases=("Driving License",),
    ),
    Column(
        "Childcare Needs", "childcare_needs", ADDITIONAL, max_length=2000, aliases=("Childcare",)
    ),
    Column("Preferred Hours", "preferred_hours", ADDITIONAL, max_length=200),
    Column(
        "Job Preferences",
        "job_preferences",
        ADDITIONAL,
        max_length=2000,
        aliases=("Job Goals", "Aims"),
    ),
    Column("Notes", "notes", ADDITIONAL, max_length=2000, aliases=("Comments",)),
)

COLUMNS_BY_FIELD: dict[str, Column] = {c.field: c for c in COLUMNS}
FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.required)
DATE_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.kind == DATE)
FLAG_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.kind == FLAG)

_FOLD = re.compile(r"[\s_\-./]+")


def fold_header(name: str) -> str:
    """Fold a header for matching: lower case, without spaces, _ - . and /."""
    return _FOLD.sub("", name.strip().lstrip("\ufeff").lower())


FOLDED_TO_FIELD: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.name, *_column.aliases):
        FOLDED_TO_FIELD[fold_header(_name)] = _column.field


def columns_in_section(section: str) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if c.section == section)
