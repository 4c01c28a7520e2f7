"""Settings for the data-plane entry point: production's, serving only the runtime endpoints.

``gunicorn config.runtime_wsgi:application`` uses these; ``docs/deploy.md`` shows the data
plane and the full app as two gunicorn pools behind one proxy.
"""

from .data_plane import RUNTIME_AUTHENTICATION_CLASSES, RUNTIME_MIDDLEWARE, RUNTIME_URLCONF
from .production import *  # noqa: F403
from .production import REST_FRAMEWORK

ROOT_URLCONF = RUNTIME_URLCONF
MIDDLEWARE = RUNTIME_MIDDLEWARE
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": RUNTIME_AUTHENTICATION_CLASSES,
}
# The data plane serves neither the admin nor web logins; their middleware checks do not apply.
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,  # noqa: F405
    "admin.E408",
    "admin.E409",
    "admin.E410",
    "axes.W002",
]
