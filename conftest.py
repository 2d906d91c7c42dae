"""Shared test fixtures: one user for every role, a learner and an outsider."""

from __future__ import annotations

import datetime
import hashlib
import importlib
import uuid

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from participants import roles
from participants.models import Kind, Participant, PrapVersion, User, VersionStatus

# The Playwright ``browser`` fixture, for every app's browser tests.
pytest_plugins = ["browser_testing"]

PASSWORD = "correct-horse-battery-staple"


def ensure_roles() -> None:
    """Seed the role groups again where a test that empties the database removed them.

    Runs the seeding migrations' own functions, so the roles are defined once.
    """
    if Group.objects.filter(name__in=roles.ROLES).count() == len(roles.ROLES):
        return
    state_apps = MigrationLoader(connection).project_state().apps
    for module, function in _ROLE_SEEDS:
        getattr(importlib.import_module(module), function)(state_apps, None)


_ROLE_SEEDS = (
    ("participants.migrations.0002_seed_roles", "seed_roles"),
    ("reporting.migrations.0002_grant_reporting_roles", "grant"),
)


def make_staff(username: str, *role_names: str) -> User:
    ensure_roles()
    user = User.objects.create_user(
        username=username,
        email=f"{username}@provider.example",
        password=PASSWORD,
        first_name=username.title(),
        last_name="Staff",
        kind=Kind.STAFF,
    )
    for role in role_names:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_participant(
    *,
    nino: str = "QQ123456C",
    first_name: str = "Alice",
    last_name: str = "Adams",
    email: str = "",
    programme: str = "Restart Scheme",
    kind: str = Kind.PROSPECT,
    **data: object,
) -> Participant:
    """A person with PRaP data version 1 applied, as an import would leave them."""
    user = User.objects.create_user(
        username=email or str(uuid.uuid4()),
        email=email,
        first_name=first_name,
        last_name=last_name,
        kind=kind,
    )
    participant = Participant.objects.create(
        user=user, nino=nino, programme=programme, po_number=str(data.get("po_number", ""))
    )
    values = {
        "first_name": first_name,
        "last_name": last_name,
        "nino": nino,
        "email": email,
        "programme": programme,
        "referral_date": datetime.date(2024, 3, 1),
        **data,
    }
    PrapVersion.objects.create(
        participant=participant,
        number=1,
        status=VersionStatus.APPLIED,
        data_hash=hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest(),
        **values,
    )
    return participant


@pytest.fixture
def importer(db: None) -> User:
    return make_staff("ivy", roles.CREATE_USERS)


@pytest.fixture
def supervisor(db: None) -> User:
    return make_staff("sam", roles.SUPERVISOR)


@pytest.fixture
def compliance(db: None) -> User:
    return make_staff("cora", roles.COMPLIANCE_QA)


@pytest.fixture
def version_setter(db: None) -> User:
    return make_staff("vic", roles.SET_PRAP_VERSION)


@pytest.fixture
def outsider(db: None) -> User:
    """Staff with no role at all."""
    return make_staff("otto")


@pytest.fixture
def admin_user(db: None) -> User:
    user = make_staff("ada", *roles.ROLES)
    user.is_staff = True
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def learner(db: None) -> User:
    participant = make_participant(
        nino="AB123456C", first_name="Lena", last_name="Learner", email="lena@example.com"
    )
    user = participant.user
    user.kind = Kind.LEARNER
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture(autouse=True)
def _fast_and_plain_settings(settings: object) -> None:
    """Tests hash passwords cheaply and serve static files without a built manifest."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
