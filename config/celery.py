"""The Celery application; tasks are discovered in every installed app's ``tasks`` module."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("verdict")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _logging_from_settings(loglevel: int | str | None = None, **kwargs: object) -> None:
    """The worker and beat log through the ``LOGGING`` setting (JSON lines in production, like
    the web servers), not Celery's own plain-text handlers; ``--loglevel`` sets the level, and
    Python warnings are logged too. Run them with ``--quiet`` so the startup banner (printed,
    not logged) is left out."""
    import logging
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


# Every minute: apply scheduled starts and stops (experiments), and queue the refreshes that are
# due (analysis: each running experiment every ``refresh_minutes``, 15 by default, and a final
# one after a stop); every hour, purge raw events past their retention period (when set).
app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "experiments-apply-schedules": {"task": "experiments.apply_schedules", "schedule": 60.0},
    "analysis-refresh-due": {"task": "analysis.refresh_due", "schedule": 60.0},
    "analysis-purge-events": {"task": "analysis.purge_events", "schedule": 3600.0},
}
