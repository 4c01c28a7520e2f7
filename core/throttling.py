"""Rate limits: per API key on the runtime endpoints, per client IP on failed authentication.

``ThrottleMiddleware`` counts in fixed windows with django-ratelimit's counters, kept in the
cache named by ``RATELIMIT_USE_CACHE`` (Redis when ``CACHE_URL`` is set, so every server shares
the counts; in-process otherwise). Over a limit, the answer is a JSON 429 with ``Retry-After``
(seconds until the window ends).

- A bearer key on ``VERDICT_RUNTIME_URL_NAMES`` (assign, events) may make
  ``VERDICT_RUNTIME_KEY_RATE`` calls (counted per key, before the key is looked up).
- A client IP whose requests carried credentials that were refused (401) more than
  ``VERDICT_AUTH_FAILURE_RATE`` times is answered 429 before any lookup until its window ends,
  so guessing keys costs no database queries past the limit.

When the cache cannot be reached the limits fail open: requests are served unlimited, one
warning is logged per outage, and the cache is tried again after ``OUTAGE_RETRY_SECONDS``.
An empty rate turns that limit off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 5.0
_outage_until = 0.0
_in_outage = False


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the ``X-Forwarded-For`` entry added by the
    last of ``REST_FRAMEWORK['NUM_PROXIES']`` trusted proxies (DRF's rule)."""
    return BaseThrottle().get_ident(request)


def _usage(request: HttpRequest, *, group: str, value: str, rate: str, increment: bool) -> Any:
    """django-ratelimit's usage of ``value`` in ``group``, or None when the cache is down."""
    global _outage_until, _in_outage
    now = time.monotonic()
    if now < _outage_until:
        return None
    try:
        usage = get_usage(
            request,
            group=group,
            key=lambda _group, _request: value,
            rate=rate,
            increment=increment,
        )
    except Exception as exc:  # noqa: BLE001 - any cache failure: serve unlimited
        _outage_until = now + OUTAGE_RETRY_SECONDS
        if not _in_outage:
            _in_outage = True
            logger.warning(
                "Rate limits are off: the cache is unreachable (%s).", type(exc).__name__
            )
        return None
    if _in_outage:
        _in_outage = False
        logger.warning("Rate limits are on again: the cache answers.")
    return usage


def _too_many(detail: str, usage: dict[str, Any]) -> HttpResponse:
    retry_after = max(1, int(usage.get("time_left") or 1))
    response = JsonResponse({"detail": f"{detail} Retry after {retry_after} seconds."}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return raw.strip()


class ThrottleMiddleware:
    """Answers 429 to callers over their limit; counts refused credentials per IP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        rate = settings.VERDICT_AUTH_FAILURE_RATE
        if rate and response.status_code == 401 and "HTTP_AUTHORIZATION" in request.META:
            _usage(
                request, group="auth-failure", value=client_ip(request), rate=rate, increment=True
            )
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if "HTTP_AUTHORIZATION" not in request.META:
            return None
        rate = settings.VERDICT_AUTH_FAILURE_RATE
        if rate:
            usage = _usage(
                request,
                group="auth-failure",
                value=client_ip(request),
                rate=rate,
                increment=False,
            )
            if usage is not None and usage["count"] >= usage["limit"]:
                return _too_many("Too many refused credentials from this address.", usage)
        rate = settings.VERDICT_RUNTIME_KEY_RATE
        match = request.resolver_match
        raw = _bearer(request)
        if rate and raw and match and match.url_name in settings.VERDICT_RUNTIME_URL_NAMES:
            usage = _usage(request, group="runtime-key", value=raw, rate=rate, increment=True)
            if usage is not None and usage["should_limit"]:
                return _too_many("This API key is over its rate limit.", usage)
        return None


def rate_limits_reset() -> None:
    """Forget a remembered cache outage: the next request tries the cache again."""
    global _outage_until, _in_outage
    _outage_until = 0.0
    _in_outage = False
