from django.test import override_settings

from participants.models import Participant
from reporting.bench import bench_odata_page, bench_odata_setup


@override_settings(ODATA_PAGE_SIZE=5)
def test_the_benchmark_reads_one_filtered_page(db: None) -> None:
    feed = bench_odata_setup(participants=30)
    assert bench_odata_page(feed) == 5
    bench_odata_setup(participants=30)
    assert Participant.objects.count() == 30
