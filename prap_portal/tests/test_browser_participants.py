"""People in real Chromium: PRaP Details, version history apply and retain, invitations."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from browser_testing import needs_chromium, screenshot, sign_in
from conftest import PASSWORD, make_participant, make_staff
from participants import roles
from participants.models import Invitation, Kind, User, VersionStatus
from participants.tests.factories import add_version

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

NEW_PASSWORD = "a-long-new-password-2024"


def _nav_count(page: object) -> str:
    link = page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Requires attention")
    )
    return re.sub(r"\s+", " ", link.text_content()).strip()


def _invitation_link(live_server: object) -> str:
    return re.search(
        rf"{re.escape(live_server.url)}/participants/invitation/[^/\s]+/", mail.outbox[-1].body
    )[0]


def test_staff_read_prap_details_decide_versions_and_invite(live_server, browser) -> None:
    make_staff("sam", roles.SUPERVISOR, roles.CREATE_USERS)
    alice = make_participant(
        nino="QQ100001C",
        first_name="Alice",
        last_name="Adams",
        email="alice@example.com",
        town="Leeds",
    )
    add_version(alice, town="York")
    bob = make_participant(nino="QQ100002C", first_name="Bob", last_name="Brown", town="Hull")
    add_version(bob, town="Selby")
    carol = make_participant(
        nino="QQ100003C", first_name="Carol", last_name="Cole", email="carol@example.com"
    )
    url = live_server.url
    page = browser.new_page()
    sign_in(page, url, "sam", PASSWORD)
    assert _nav_count(page) == "Requires attention 2 people"

    # Requires attention leads to the pending version, its changes marked in words.
    page.get_by_role("link", name="Requires attention").click()
    assert (
        page.get_by_role("row", name=re.compile("Alice Adams"))
        .get_by_role("cell")
        .nth(2)
        .inner_text()
        == "Town"
    )
    screenshot(page, "requires-attention")
    page.get_by_role("link", name="Alice Adams").click()
    page.get_by_role("heading", name="Version 2 Pending").wait_for()
    changed = page.locator("dd.changed")
    assert changed.count() == 1
    assert changed.inner_text().split("\n")[0] == "Changed: York"
    assert "Applied: Leeds" in changed.inner_text()
    screenshot(page, "version-history")

    # Apply from the version's menu.
    page.get_by_label("Actions for version 2").click()
    page.get_by_role("button", name="Apply this version").click()
    assert page.get_by_role("status").filter(has_text="Version 2").inner_text() == (
        "Done: Version 2 is now the applied version."
    )
    assert page.get_by_role("heading", name="Version 2 Applied").is_visible()
    assert _nav_count(page) == "Requires attention 1 person"
    page.get_by_role("link", name="History", exact=True).click()
    assert "Applied" in page.get_by_role("table").inner_text()

    # PRaP Details shows the applied data with the NINO masked until revealed.
    page.get_by_role("link", name="PRaP Details").click()
    page.get_by_role("heading", name="Contact information").wait_for()
    details = page.get_by_role("main")
    assert "York" in details.inner_text()
    assert "10 00 01" not in details.inner_text()
    page.get_by_role("button", name="Reveal National Insurance number").click()
    assert "QQ 10 00 01 C" in page.get_by_role("main").inner_text()
    screenshot(page, "prap-details")

    # Retain Bob's current data.
    page.goto(f"{url}/participants/{bob.pk}/versions/2/")
    page.get_by_label("Actions for version 2").click()
    page.get_by_role("button", name="Retain this version").click()
    page.get_by_role("heading", name="Version 2 Retained").wait_for()
    assert (
        page.get_by_role("navigation", name="Main")
        .get_by_role("link", name="Requires attention")
        .text_content()
        .strip()
        == "Requires attention"
    )
    assert bob.versions.get(number=1).status == VersionStatus.APPLIED
    page.get_by_role("link", name="Requires attention").click()
    assert page.get_by_role("cell", name="Nobody requires attention.").is_visible()

    # Send Alice an invitation; she accepts it in a browser of her own.
    page.goto(f"{url}/participants/{alice.pk}/account/")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_role("status").filter(has_text="Invitation sent").inner_text() == (
        "Done: Invitation sent to alice@example.com."
    )
    screenshot(page, "account-and-invitations")
    link = _invitation_link(live_server)

    fresh = browser.new_context()
    alice_page = fresh.new_page()
    alice_page.goto(link)
    alice_page.get_by_role("heading", name="Welcome, Alice").wait_for()
    alice_page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    alice_page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    alice_page.get_by_role("button", name="Set password and sign in").click()
    alice_page.get_by_role("heading", name="Alice Adams").wait_for()
    assert "Your password is set" in alice_page.get_by_role("status").inner_text()
    assert "York" in alice_page.get_by_role("main").inner_text()
    screenshot(alice_page, "my-details")
    assert User.objects.get(pk=alice.user.pk).kind == Kind.LEARNER
    alice_page.goto(link)
    assert (
        alice_page.get_by_role("heading", level=1).inner_text()
        == "This invitation link has already been used."
    )
    fresh.close()

    # An expired link explains what to do next.
    page.goto(f"{url}/participants/{carol.pk}/account/")
    page.get_by_role("button", name="Send invitation").click()
    Invitation.objects.filter(user=carol.user).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    stranger = browser.new_context()
    carol_page = stranger.new_page()
    response = carol_page.goto(_invitation_link(live_server))
    assert response.status == 410
    assert (
        carol_page.get_by_role("heading", level=1).inner_text()
        == "This invitation link has expired."
    )
    assert "Ask your adviser at your employment support provider to send you a new invitation." in (
        carol_page.get_by_role("main").inner_text()
    )
    screenshot(carol_page, "invitation-expired")
    stranger.close()
