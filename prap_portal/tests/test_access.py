"""Who may open what: every URL of the project for every kind of user, CSRF, sessions,
sign-in throttling and the access log.

The URL walk iterates the project's resolver, so a URL added without a row in
``EXPECTED`` fails the test until someone decides who may open it.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from conftest import PASSWORD, make_participant
from imports.models import BatchStatus, ImportBatch
from participants.models import AccessLog, PrapVersion, User, VersionNote, VersionStatus
from reporting.models import FeedToken, SavedReport

ACTORS = (
    "anonymous",
    "importer",
    "supervisor",
    "compliance",
    "version_setter",
    "outsider",
    "learner",
    "admin_user",
)
STAFF_VIEWERS = {"importer", "supervisor", "compliance", "version_setter", "admin_user"}
HISTORY = {"supervisor", "compliance", "version_setter", "admin_user"}
REVEAL = {"supervisor", "compliance", "admin_user"}
IMPORTERS = {"importer", "admin_user"}
REPORTERS = {"supervisor", "compliance", "admin_user"}
SIGNED_IN = set(ACTORS) - {"anonymous"}


def codes(allowed: set[str], ok: int, *, denied: int = 404, anonymous: int = 302) -> dict[str, int]:
    """Expected GET status per actor: ``ok`` for those allowed, ``denied`` for the rest."""
    table = {actor: (ok if actor in allowed else denied) for actor in SIGNED_IN}
    table["anonymous"] = anonymous
    return table


# URL name -> expected status of a GET by each actor, on objects they may or may not see.
EXPECTED: dict[str, dict[str, int]] = {
    "home": {**codes(SIGNED_IN - {"learner"}, 200), "learner": 302},
    "login": codes(SIGNED_IN, 200, anonymous=200),
    "logout": codes(SIGNED_IN, 405, anonymous=405),
    "imports-upload": codes(IMPORTERS, 200, denied=403),
    "imports-history": codes(IMPORTERS, 200, denied=403),
    "imports-batch": codes(IMPORTERS, 200),
    "imports-progress": codes(IMPORTERS, 200),
    "imports-commit": codes(IMPORTERS, 405, denied=405),
    "imports-errors-csv": codes(IMPORTERS, 200),
    "imports-successes-csv": codes(IMPORTERS, 200),
    "participants-list": codes(STAFF_VIEWERS, 200),
    "participants-invite-selected": codes(IMPORTERS, 405),
    "participants-invite-batch": codes(IMPORTERS, 405),
    "participants-attention": codes(HISTORY, 200),
    "participants-access-log": codes({"compliance", "admin_user"}, 200),
    "participants-me": codes({"learner"}, 200),
    "participants-accept-invitation": codes(set(), 200, anonymous=404),
    "participants-prap": codes(STAFF_VIEWERS, 200),
    "participants-reveal-nino": codes(REVEAL, 405),
    "participants-account": codes(STAFF_VIEWERS, 200),
    "participants-email": codes(IMPORTERS, 405),
    "participants-invite": codes(IMPORTERS, 405),
    "participants-versions": codes(HISTORY, 302),
    "participants-version": codes(HISTORY, 200),
    "participants-version-notes": codes(HISTORY, 200),
    # The note is the supervisor's: its author and supervisors may change it.
    "participants-note-edit": codes({"supervisor", "admin_user"}, 200),
    "participants-note-delete": codes({"supervisor", "admin_user"}, 405),
    "participants-version-history": codes(HISTORY, 200),
    "participants-version-apply": codes(HISTORY, 405),
    "participants-version-retain": codes(HISTORY, 405),
    "reporting-builder": codes(REPORTERS, 200, denied=403),
    "reporting-export-csv": codes(REPORTERS, 200, denied=403),
    "reporting-export-xlsx": codes(REPORTERS, 200, denied=403),
    "reporting-save": codes(REPORTERS, 405, denied=405, anonymous=405),
    "reporting-saved": codes(REPORTERS, 200, denied=403),
    # The report is the compliance user's and not shared.
    "reporting-run": {
        **codes({"compliance"}, 302, denied=403),
        "supervisor": 404,
        "admin_user": 404,
    },
    "reporting-share": codes(REPORTERS, 405, denied=405, anonymous=405),
    "reporting-delete": codes(REPORTERS, 405, denied=405, anonymous=405),
    "reporting-tokens": codes(REPORTERS, 200, denied=403),
    "reporting-token-revoke": codes(REPORTERS, 405, denied=405, anonymous=405),
    # The feed signs in with feed tokens only, never with the session.
    "reporting-odata-root": codes(set(), 401, denied=401, anonymous=401),
    "reporting-odata-metadata": codes(set(), 401, denied=401, anonymous=401),
    "reporting-odata-count": codes(set(), 401, denied=401, anonymous=401),
    "reporting-odata-set": codes(set(), 401, denied=401, anonymous=401),
}
# The admin's own pages are Django's; its index stands for them.
ADMIN_INDEX = {**codes({"admin_user"}, 200, denied=302), "anonymous": 302}


def project_url_names() -> set[str]:
    """Every named URL of the project, outside the admin."""

    def walk(patterns: list) -> set[str]:
        names: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if getattr(pattern, "app_name", None) == "admin":
                    continue
                names |= walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)
        return names

    return walk(get_resolver().url_patterns)


@pytest.fixture
def world(importer, supervisor, compliance, version_setter, outsider, learner, admin_user):
    """One of every object a URL can name, and the users."""
    person = make_participant(nino="QQ123456C", email="pat@example.com")
    PrapVersion.objects.create(
        participant=person,
        number=2,
        status=VersionStatus.PENDING,
        first_name="Pat",
        last_name="Adams",
        nino="QQ123456C",
        data_hash="2",
    )
    note = VersionNote.objects.create(
        version=person.versions.get(number=1), author=supervisor, text="Checked"
    )
    batch = ImportBatch.objects.create(
        uploaded_by=importer,
        file_name="b.zip",
        status=BatchStatus.VALIDATED,
        validated_at=timezone.now(),
    )
    report = SavedReport.objects.create(
        owner=compliance, name="Mine", definition={"fields": ["first_name"]}
    )
    token = FeedToken.objects.create(user=compliance, name="Excel", token_hash="x" * 64)
    users = {
        "importer": importer,
        "supervisor": supervisor,
        "compliance": compliance,
        "version_setter": version_setter,
        "outsider": outsider,
        "learner": learner,
        "admin_user": admin_user,
    }
    kwargs = {
        "imports-batch": {"pk": batch.pk},
        "imports-progress": {"pk": batch.pk},
        "imports-commit": {"pk": batch.pk},
        "imports-errors-csv": {"pk": batch.pk},
        "imports-successes-csv": {"pk": batch.pk},
        "participants-invite-batch": {"batch_id": batch.pk},
        "participants-accept-invitation": {"token": "not-a-token"},
        "participants-prap": {"pk": person.pk},
        "participants-reveal-nino": {"pk": person.pk},
        "participants-account": {"pk": person.pk},
        "participants-email": {"pk": person.pk},
        "participants-invite": {"pk": person.pk},
        "participants-versions": {"pk": person.pk},
        "participants-version": {"pk": person.pk, "number": 1},
        "participants-version-notes": {"pk": person.pk, "number": 1},
        "participants-note-edit": {"pk": person.pk, "number": 1, "note_id": note.pk},
        "participants-note-delete": {"pk": person.pk, "number": 1, "note_id": note.pk},
        "participants-version-history": {"pk": person.pk, "number": 1},
        "participants-version-apply": {"pk": person.pk, "number": 2},
        "participants-version-retain": {"pk": person.pk, "number": 2},
        "reporting-run": {"pk": report.pk},
        "reporting-share": {"pk": report.pk},
        "reporting-delete": {"pk": report.pk},
        "reporting-token-revoke": {"pk": token.pk},
        "reporting-odata-count": {"name": "Participants"},
        "reporting-odata-set": {"name": "Participants"},
    }
    return users, kwargs


QUERIES = {
    "reporting-export-csv": "?fields=first_name",
    "reporting-export-xlsx": "?fields=first_name",
}


def client_for(actor: str, users: dict[str, User]) -> Client:
    client = Client()
    if actor != "anonymous":
        client.force_login(users[actor])
    return client


def test_every_url_of_the_project_has_a_row_in_the_table():
    assert project_url_names() == set(EXPECTED)


def test_every_url_answers_each_kind_of_user_as_the_table_says(world):
    users, kwargs = world
    got: dict[str, dict[str, int]] = {}
    for name in sorted(EXPECTED):
        url = reverse(name, kwargs=kwargs.get(name)) + QUERIES.get(name, "")
        got[name] = {actor: client_for(actor, users).get(url).status_code for actor in ACTORS}
    mismatches = {
        name: {
            actor: (got[name][actor], want)
            for actor, want in EXPECTED[name].items()
            if got[name][actor] != want
        }
        for name in EXPECTED
    }
    assert {name: diff for name, diff in mismatches.items() if diff} == {}


def test_the_admin_is_for_administrators_only(world):
    users, _ = world
    got = {
        actor: client_for(actor, users).get(reverse("admin:index")).status_code for actor in ACTORS
    }
    assert got == ADMIN_INDEX


def _bump(value: object) -> object:
    return value + 100_000 if isinstance(value, int) else value + "-nope"


def test_an_id_that_does_not_exist_answers_as_a_forbidden_one_does(world):
    """For someone allowed, an unknown id is 404; for someone not, a real id is 404 too."""
    users, kwargs = world
    for name, params in kwargs.items():
        if name.startswith("reporting-odata") or name == "participants-accept-invitation":
            continue
        allowed = [
            a for a, code in EXPECTED[name].items() if code in (200, 302, 405) and a != "anonymous"
        ]
        denied = [a for a, code in EXPECTED[name].items() if code == 404]
        for actor in allowed:
            for key in params:
                missing = {**params, key: _bump(params[key])}
                status = client_for(actor, users).get(reverse(name, kwargs=missing)).status_code
                assert status in (404, 405), (name, actor, key, status)
                if EXPECTED[name][actor] != 405:
                    assert status == 404, (name, actor, key, status)
        for actor in denied:
            assert client_for(actor, users).get(reverse(name, kwargs=params)).status_code == 404, (
                name,
                actor,
            )


# --- CSRF ----------------------------------------------------------------------

POST_VIEWS = {
    "login": {},
    "logout": {},
    "imports-upload": {},
    "imports-commit": {"pk": 0},
    "participants-invite-selected": {},
    "participants-invite-batch": {"batch_id": 0},
    "participants-reveal-nino": {"pk": 0},
    "participants-email": {"pk": 0},
    "participants-invite": {"pk": 0},
    "participants-version-notes": {"pk": 0, "number": 1},
    "participants-note-edit": {"pk": 0, "number": 1, "note_id": 0},
    "participants-note-delete": {"pk": 0, "number": 1, "note_id": 0},
    "participants-version-apply": {"pk": 0, "number": 2},
    "participants-version-retain": {"pk": 0, "number": 2},
    "participants-accept-invitation": {"token": "x"},
    "reporting-save": {},
    "reporting-share": {"pk": 0},
    "reporting-delete": {"pk": 0},
    "reporting-tokens": {},
    "reporting-token-revoke": {"pk": 0},
}


def test_every_form_is_refused_without_a_csrf_token(world):
    users, kwargs = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin_user"])
    for name, params in POST_VIEWS.items():
        url = reverse(name, kwargs={**params, **kwargs.get(name, {})} if params else None)
        response = client.post(
            url, {"username": "ada", "password": PASSWORD, "text": "x", "email": "a@b.example"}
        )
        assert response.status_code == 403, (name, response.status_code)
    assert VersionNote.objects.count() == 1
    assert PrapVersion.objects.get(number=2).status == VersionStatus.PENDING


def test_every_post_view_is_in_the_csrf_list():
    # The POST-only views of the table (GET gives 405) must all be CSRF-checked above.
    post_only = {name for name, table in EXPECTED.items() if 405 in table.values()}
    assert post_only <= set(POST_VIEWS)


def test_a_form_with_its_token_is_accepted(world):
    users, _ = world
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("login"),
        {
            "username": users["supervisor"].username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
        },
    )
    assert (response.status_code, response.url) == (302, reverse("home"))


# --- Sessions ------------------------------------------------------------------


def test_sessions_last_eight_hours_and_end_with_the_browser():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_a_session_cookie_has_no_expiry_and_the_session_ends_after_its_age(supervisor, client):
    response = client.post(
        reverse("login"), {"username": supervisor.username, "password": PASSWORD}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert cookie["httponly"]
    assert client.get(reverse("participants-list")).status_code == 200
    session = client.session
    expiry = session.get_expiry_date()
    assert (
        datetime.timedelta(hours=7, minutes=59)
        < expiry - timezone.now()
        <= datetime.timedelta(hours=8)
    )
    # Eight hours on, the stored session has expired: the user must sign in again.
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=session.session_key).update(expire_date=timezone.now())
    response = client.get(reverse("participants-list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Sign-in throttling ----------------------------------------------------------

LOCKED = "Too many failed sign-in attempts. Wait 15 minutes and try again, or ask an administrator to reset your password."


@pytest.fixture
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_five_failures_for_a_username_lock_it_even_with_the_right_password(supervisor, empty_cache):
    client = Client()
    for attempt in range(5):
        response = sign_in(client, supervisor.username, "wrong", address=f"10.0.0.{attempt}")
        assert response.status_code == 200
        assert "Your username and password didn't match." in response.content.decode()
    response = sign_in(client, supervisor.username, PASSWORD, address="10.0.0.99")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from another address is not affected.
    other = make_participant(nino="QQ222222B", email="sam2@example.com").user
    other.set_password(PASSWORD)
    other.save()
    assert sign_in(Client(), other.username, PASSWORD, address="10.0.1.1").status_code == 302


def test_five_failures_from_an_address_lock_it_for_every_username(supervisor, empty_cache):
    client = Client()
    for n in range(5):
        sign_in(client, f"nobody{n}", "wrong", address="192.0.2.7")
    response = sign_in(client, supervisor.username, PASSWORD, address="192.0.2.7")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert sign_in(Client(), supervisor.username, PASSWORD, address="192.0.2.8").status_code == 302


def test_the_lockout_ends_after_its_time(supervisor, empty_cache, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(5):
        sign_in(Client(), supervisor.username, "wrong")
    assert sign_in(Client(), supervisor.username, PASSWORD).status_code == 429
    import time

    time.sleep(1.1)
    assert sign_in(Client(), supervisor.username, PASSWORD).status_code == 302


def test_four_failures_then_success_clear_the_username_count(supervisor, empty_cache):
    for n in range(4):
        sign_in(Client(), supervisor.username, "wrong", address=f"10.1.0.{n}")
    assert sign_in(Client(), supervisor.username, PASSWORD, address="10.1.1.1").status_code == 302
    for n in range(4):
        sign_in(Client(), supervisor.username, "wrong", address=f"10.2.0.{n}")
    assert sign_in(Client(), supervisor.username, PASSWORD, address="10.2.1.1").status_code == 302


def test_the_admin_sign_in_is_throttled_too(admin_user, empty_cache):
    url = reverse("admin:login")
    for _ in range(5):
        Client().post(
            url, {"username": admin_user.username, "password": "wrong"}, REMOTE_ADDR="10.9.0.1"
        )
    response = Client().post(
        url, {"username": admin_user.username, "password": PASSWORD}, REMOTE_ADDR="10.9.0.2"
    )
    assert response.status_code == 200
    assert LOCKED in response.content.decode()


# --- The access log ----------------------------------------------------------------


def test_views_of_personal_data_are_logged(world):
    users, kwargs = world
    client = client_for("compliance", users)
    person = kwargs["participants-prap"]["pk"]
    client.get(reverse("participants-prap", kwargs={"pk": person}))
    client.post(reverse("participants-reveal-nino", kwargs={"pk": person}))
    client.get(reverse("participants-version", kwargs={"pk": person, "number": 1}))
    importer = client_for("importer", users)
    batch = kwargs["imports-batch"]["pk"]
    b"".join(importer.get(reverse("imports-errors-csv", kwargs={"pk": batch})).streaming_content)
    b"".join(importer.get(reverse("imports-successes-csv", kwargs={"pk": batch})).streaming_content)
    entries = list(
        AccessLog.objects.order_by("id").values_list(
            "user__username", "participant_id", "action", "detail"
        )
    )
    assert entries == [
        ("cora", person, "view_prap_details", "PRaP Details"),
        ("cora", person, "reveal_nino", "National Insurance number"),
        ("cora", person, "view_prap_version", "Version 1"),
        ("ivy", None, "export_errors", f"Import batch {batch}"),
        ("ivy", None, "export_successes", f"Import batch {batch}"),
    ]


def test_compliance_reads_and_filters_the_access_log(world):
    users, kwargs = world
    person = kwargs["participants-prap"]["pk"]
    client_for("supervisor", users).get(reverse("participants-prap", kwargs={"pk": person}))
    client_for("compliance", users).post(reverse("participants-reveal-nino", kwargs={"pk": person}))
    other = make_participant(nino="AB654321C", first_name="Olga", last_name="Other")
    client_for("supervisor", users).get(reverse("participants-prap", kwargs={"pk": other.pk}))
    AccessLog.objects.filter(participant=other).update(
        at=timezone.now() - datetime.timedelta(days=10)
    )

    client = client_for("compliance", users)
    url = reverse("participants-access-log")
    page = client.get(url)
    assert page.status_code == 200
    assert [e.action for e in page.context["page"]] == [
        "reveal_nino",
        "view_prap_details",
        "view_prap_details",
    ]
    html = page.content.decode()
    assert "Revealed a National Insurance number" in html and "QQ •• •• 56 C" in html
    assert "QQ123456C" not in html

    def actions(**query: str) -> list[tuple[str, str]]:
        response = client.get(url, query)
        return [(e.user.username, e.action) for e in response.context["page"]]

    assert actions(user="sam") == [("sam", "view_prap_details"), ("sam", "view_prap_details")]
    assert actions(action="reveal_nino") == [("cora", "reveal_nino")]
    assert actions(participant="AB 65") == [("sam", "view_prap_details")]
    assert actions(participant="olg") == [("sam", "view_prap_details")]
    today = timezone.localdate().isoformat()
    assert actions(date_from=today, date_to=today) == [
        ("cora", "reveal_nino"),
        ("sam", "view_prap_details"),
    ]
    old = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    assert actions(date_to=old) == [("sam", "view_prap_details")]
    response = client.get(url, {"date_from": today, "date_to": old})
    assert "The From date must be on or before the To date." in response.content.decode()


def test_the_access_log_pages_its_entries(world, compliance):
    AccessLog.objects.bulk_create(
        AccessLog(user=compliance, action="report_export", detail=str(n)) for n in range(60)
    )
    client = client_for("compliance", world[0])
    first = client.get(reverse("participants-access-log"), {"action": "report_export"})
    assert len(first.context["page"]) == 50
    assert "page=2" in first.content.decode() and "action=report_export" in first.content.decode()
    second = client.get(reverse("participants-access-log"), {"action": "report_export", "page": 2})
    assert len(second.context["page"]) == 10


def test_the_access_log_is_in_the_navigation_for_compliance_only(world):
    users, _ = world
    assert "Access log" in client_for("compliance", users).get(reverse("home")).content.decode()
    assert "Access log" not in client_for("supervisor", users).get(reverse("home")).content.decode()
