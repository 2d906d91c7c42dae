"""Celery application. Without CELERY_BROKER_URL every task runs inline (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prap_portal.settings")

app = Celery("prap_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
