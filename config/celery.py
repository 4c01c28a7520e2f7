"""The Celery application; tasks are discovered in every installed app's ``tasks`` module.

Its configuration, the beat schedule included, is the ``CELERY_*`` settings.
"""

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
