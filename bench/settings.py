"""Settings for benchmarks: production settings plus the bench-only URLs (``bench.urls``)."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
