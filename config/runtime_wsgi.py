"""WSGI entry point of the data plane: assign, events, exposures and the SDK payload only.

    gunicorn config.runtime_wsgi:application

It runs with ``config.settings.runtime`` (production's settings, the runtime URLs and minimal
middleware) unless ``DJANGO_SETTINGS_MODULE`` names other settings.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.runtime")
application = get_wsgi_application()
