"""Entry points for the benchmarks: the feed's speed on a large data set.

The benchmark harness owns timing and reporting; these functions only set the
data up and make the measured request::

    feed = bench_odata_setup(participants=100_000)   # once, untimed
    rows = bench_odata_page(feed)                     # timed: one page of 1,000

``bench_odata_page`` goes through the whole stack (URL routing, token
authentication, access log, $filter translation, one page query, JSON).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.test import Client

from participants.models import Kind, Participant, User
from reporting import services
from reporting.tests.factories import bulk_participants

BENCH_USERNAME = "bench-odata"
# A third of the people match; the first page of them is read with a $select.
BENCH_PATH = (
    "/odata/Participants?$filter=Programme eq 'Pioneer' and ReferralDate ge 2024-01-01"
    "&$select=Id,FirstName,LastName,NationalInsuranceNumber,Programme,ReferralDate,Town"
)


@dataclass
class FeedBench:
    client: Client
    headers: dict[str, str]
    path: str = BENCH_PATH


def bench_odata_setup(*, participants: int = 100_000) -> FeedBench:
    """Make sure ``participants`` people exist and a feed user holds a live token."""
    existing = Participant.objects.count()
    if existing < participants:
        for start in range(existing, participants, 10_000):
            bulk_participants(min(10_000, participants - start), start=start)
    user, _ = User.objects.get_or_create(
        username=BENCH_USERNAME, defaults={"kind": Kind.STAFF, "password": "!"}
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=("reporting", "participants"),
            codename__in=("use_odata_feed", "view_nino"),
        )
    )
    secret = services.feed_token_create(user=user, name="benchmark")[1]
    return FeedBench(client=Client(), headers={"Authorization": f"Bearer {secret}"})


def bench_odata_page(feed: FeedBench) -> int:
    """Read one page (1,000 rows with the default page size); returns the row count."""
    response = feed.client.get(feed.path, headers=feed.headers)
    if response.status_code != 200:
        raise RuntimeError(f"The feed answered {response.status_code}: {response.content[:200]!r}")
    return len(response.json()["value"])
