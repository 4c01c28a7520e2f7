"""Settings for a deployed Verdict: refuses to start without a secret key, HTTPS only.

``python manage.py check --deploy --fail-level WARNING`` passes with these settings. Behind a
TLS-terminating proxy, set ``DJANGO_SECURE_PROXY_SSL_HEADER=true`` so Django trusts the proxy's
``X-Forwarded-Proto`` (only when the proxy always sets or overwrites that header);
``docs/deploy.md`` describes the setup.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production settings refuse to start without a secret key."
    )

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Cookies only over HTTPS.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# HTTPS: redirect plain HTTP (the health checks answer on either, for load balancers) and ask
# browsers to use HTTPS only, for a year by default.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a commitment made with the browsers' preload list, so it is the operator's
# choice; off by default.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload: opt-in, see above.
if not SECURE_SSL_REDIRECT:
    # Turned off on purpose: the TLS proxy in front redirects HTTP to HTTPS itself.
    SILENCED_SYSTEM_CHECKS.append("security.W008")

# Logs are JSON lines, one object per line, with the request id (``core.request_logs``).
VERDICT_LOG_FORMAT = env.str("VERDICT_LOG_FORMAT", default="json")
LOGGING = logging_setup(VERDICT_LOG_FORMAT, LOG_LEVEL)  # noqa: F405
