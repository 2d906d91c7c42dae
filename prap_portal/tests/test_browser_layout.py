"""The layout in real Chromium: signing in and out, each role's navigation, keyboard use, 360 px."""

from __future__ import annotations

import re

import pytest

from browser_testing import needs_chromium, screenshot, sign_in
from conftest import PASSWORD, make_participant, make_staff
from imports.tests.bundles import bundle_of, row
from participants import roles
from participants.models import Kind
from participants.tests.factories import add_version

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

NAVIGATION = {
    "ivy": ["Home", "Participants", "Import PRaP files", "Import history"],
    "sam": ["Home", "Participants", "Requires attention 1 person", "Reports", "OData feed"],
    "cora": [
        "Home",
        "Participants",
        "Requires attention 1 person",
        "Access log",
        "Reports",
        "OData feed",
    ],
    "vic": ["Home", "Participants", "Requires attention 1 person"],
    "otto": ["Home"],
    "lena@example.com": ["My details"],
}


def _navigation(page: object) -> list[str]:
    links = page.get_by_role("navigation", name="Main").get_by_role("link").all()
    return [re.sub(r"\s+", " ", link.text_content()).strip() for link in links]


def test_each_role_signs_in_sees_its_navigation_and_signs_out(live_server, browser) -> None:
    make_staff("ivy", roles.CREATE_USERS)
    make_staff("sam", roles.SUPERVISOR)
    make_staff("cora", roles.COMPLIANCE_QA)
    make_staff("vic", roles.SET_PRAP_VERSION)
    make_staff("otto")
    alice = make_participant(nino="QQ100001C", email="alice@example.com")
    add_version(alice, town="York")
    lena = make_participant(
        nino="AB123456C", first_name="Lena", last_name="Learner", email="lena@example.com"
    )
    lena.user.kind = Kind.LEARNER
    lena.user.set_password(PASSWORD)
    lena.user.save()

    page = browser.new_page()
    page.goto(f"{live_server.url}/participants/")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Username or email").fill("sam")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert (
        page.get_by_role("alert").inner_text()
        == "Your username and password didn't match. Please try again."
    )
    screenshot(page, "login")
    page.close()

    seen = {}
    for username in NAVIGATION:
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, live_server.url, username, PASSWORD)
        seen[username] = _navigation(page)
        header = page.get_by_role("banner")
        assert "Signed in as" in header.inner_text()
        header.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in").wait_for()
        assert page.get_by_role("navigation", name="Main").count() == 0
        page.goto(f"{live_server.url}/")
        assert "/login/" in page.url
        context.close()
    assert seen == NAVIGATION


def test_the_keyboard_reaches_everything_and_the_layout_fits_360_pixels(
    live_server, browser, tmp_path
) -> None:
    make_staff("ada", *roles.ROLES)
    alice = make_participant(
        nino="QQ100001C", first_name="Alice", last_name="Adams", email="alice@example.com"
    )
    add_version(alice, town="York")
    bundle = tmp_path / "keyboard.zip"
    bundle.write_bytes(bundle_of(row(1)))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, live_server.url, "ada", PASSWORD)
    screenshot(page, "home")

    # The first Tab lands on the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # The drop zone's file picker opens from the keyboard, and focus is drawn.
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Create new records as prospects").focus()
    page.keyboard.press("Space")
    assert page.get_by_label("Create new records as prospects").is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "file"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(bundle))
    assert page.locator("[data-file-name]").inner_text() == "keyboard.zip"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Validation report: keyboard.zip").wait_for()

    # At 360 px the page does not scroll sideways; only wide tables scroll in their own box.
    page.set_viewport_size({"width": 360, "height": 740})
    for path, name in [
        ("/participants/", "narrow-participants"),
        (f"/participants/{alice.pk}/", "narrow-prap-details"),
        (f"/participants/{alice.pk}/versions/2/", None),
        ("/imports/history/", None),
        ("/reports/?fields=first_name&fields=last_name", None),
    ]:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
        assert page.get_by_role("navigation", name="Main").is_visible()
        if name:
            screenshot(page, name)
