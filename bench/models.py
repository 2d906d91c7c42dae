"""A flat referral table, the equivalent model django-import-export imports into.

Installed only when the benchmarks run (PRAP_BENCH=1); never in the product.
"""

from participants.models import PrapData


class Referral(PrapData):
    class Meta:
        app_label = "bench"
