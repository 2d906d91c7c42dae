"""Feed tokens in the app: create, name, see the last use, revoke."""

from __future__ import annotations

import base64

from django.test import Client

from participants.models import User
from reporting.models import FeedToken

TOKENS = "/reports/feed-tokens/"


def test_a_token_is_created_by_name_and_its_secret_shown_once(
    client: Client, supervisor: User
) -> None:
    client.force_login(supervisor)
    response = client.post(TOKENS, {"name": "Power BI board pack"})
    assert response.status_code == 201
    secret = response.context["secret"]
    page = response.content.decode()
    assert "Feed token “Power BI board pack” created. Copy it now: it is not shown again." in page
    assert secret in page
    token = FeedToken.objects.get(user=supervisor)
    assert token.name == "Power BI board pack"
    assert token.hint == secret[:9]

    again = client.get(TOKENS).content.decode()
    assert secret not in again
    assert "Power BI board pack" in again and "Never" in again
    assert "http://testserver/odata/" in again


def test_the_last_use_is_shown_after_the_feed_is_read(client: Client, supervisor: User) -> None:
    client.force_login(supervisor)
    secret = client.post(TOKENS, {"name": "Excel"}).context["secret"]
    auth = base64.b64encode(f"sam:{secret}".encode()).decode()
    assert client.get("/odata/", headers={"Authorization": f"Basic {auth}"}).status_code == 200
    token = FeedToken.objects.get()
    assert token.last_used_at is not None
    page = client.get(TOKENS).content.decode()
    assert "Never" not in page


def test_a_token_needs_a_name(client: Client, supervisor: User) -> None:
    client.force_login(supervisor)
    response = client.post(TOKENS, {"name": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert FeedToken.objects.count() == 0


def test_revoking_stops_the_token(client: Client, supervisor: User) -> None:
    client.force_login(supervisor)
    secret = client.post(TOKENS, {"name": "Old laptop"}).context["secret"]
    token = FeedToken.objects.get()
    response = client.post(f"{TOKENS}{token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [(TOKENS, 302)]
    assert "Feed token “Old laptop” revoked. It no longer works." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = client.get("/odata/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_nobody_can_see_or_revoke_another_persons_token(
    client: Client, supervisor: User, compliance: User
) -> None:
    client.force_login(supervisor)
    client.post(TOKENS, {"name": "Sam's token"})
    token = FeedToken.objects.get()
    client.force_login(compliance)
    assert "Sam&#x27;s token" not in client.get(TOKENS).content.decode()
    assert client.post(f"{TOKENS}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
