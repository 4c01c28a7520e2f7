"""Settings of the Celery worker the killed-worker fault test starts (test settings plus a
broker that hands an abandoned task out again within seconds).

``visibility_timeout`` is 3 s instead of 1,800 s. kombu sweeps for abandoned tasks every
``unacked_restore_interval`` seconds but only scans Redis on every ``unacked_restore_throttle``-th
sweep (10 s and 10 by default, so about every 100 s); 1 and 1 make it scan every second, so the
redelivery comes within seconds of the timeout, not after an arbitrary wait.
"""

from config.settings.test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
