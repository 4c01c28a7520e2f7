"""Benchmark settings for the data plane and its floor (``bench/runtime.py``).

``BENCH_PLANE=runtime``: the data plane's settings (``config.settings.runtime``);
``BENCH_PLANE=floor``: the same with only two middleware (request id, security), the floor a
bare Django view sets. Both add ``/bench/bare`` to the data plane's URLs.
"""

import os

from config.settings.runtime import *  # noqa: F403

ROOT_URLCONF = "bench.runtime_urls"
if os.environ.get("BENCH_PLANE") == "floor":
    MIDDLEWARE = [
        "core.request_logs.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]
