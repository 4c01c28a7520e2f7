"""What the data-plane entry point (``config.runtime_wsgi``) changes, without Django imports.

Apps call only assign, events, exposures and the SDK payload. The data plane serves just those
(``config.runtime_urls``) through the middleware they need: the request id, security headers,
the database-outage answer, body limits and the runtime rate limits. No sessions, messages,
CSRF, locale, static files or htmx: a runtime call authenticates with an API key (or a client
key in the URL) and answers JSON. ``config.settings.runtime`` applies this to production's
settings; tests apply it to theirs.
"""

RUNTIME_URLCONF = "config.runtime_urls"
RUNTIME_MIDDLEWARE = [
    "core.request_logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "core.body_limits.BodyLimitMiddleware",
    "core.throttling.ThrottleMiddleware",
]
# Runtime calls carry API keys; there are no sessions to authenticate with.
RUNTIME_AUTHENTICATION_CLASSES = ["core.auth.ApiKeyAuthentication"]
