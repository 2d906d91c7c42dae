"""The Django admin of PRaP versions."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from conftest import make_participant
from participants.models import PrapVersion, User


def test_a_versions_digests_are_shown_but_cannot_be_edited(admin_user: User) -> None:
    make_participant(nino="QQ000001C")
    version = PrapVersion.objects.get()
    PrapVersion.objects.filter(pk=version.pk).update(source_hash="ab" * 16)
    client = Client()
    client.force_login(admin_user)

    page = client.get(reverse("admin:participants_prapversion_change", args=[version.pk]))

    assert page.status_code == 200
    assert 'name="source_hash"' not in page.text
    assert 'name="data_hash"' not in page.text
    assert "ab" * 16 in page.text
