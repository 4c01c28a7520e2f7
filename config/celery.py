"""The Celery application; tasks are discovered in every installed app's ``tasks`` module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("verdict")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Analysis: every minute, apply scheduled starts/stops and queue the refreshes that are due
# (each running experiment every ``refresh_minutes``, 15 by default).
app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "analysis-apply-schedules": {"task": "analysis.apply_schedules", "schedule": 60.0},
    "analysis-refresh-due": {"task": "analysis.refresh_due", "schedule": 60.0},
}
