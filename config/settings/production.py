"""Settings for a deployed Verdict: refuses to start without a secret key."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production settings refuse to start without a secret key."
    )
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
