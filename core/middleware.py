"""Answers for a database that cannot be reached, and JSON 404s under ``/api/``.

While PostgreSQL restarts (or a connection is cut), queries raise ``OperationalError`` or
``InterfaceError``. Instead of Django's HTML "Server Error (500)", every request that hits one
gets **503** with ``Retry-After``: JSON ``{"detail": ...}`` for API clients (paths under
``/api/`` or an ``Accept: application/json`` header), a short text page otherwise. Nothing was
stored by a request answered 503 in a transaction; the runtime endpoints are idempotent by
client ids, so clients retry with the same ids.

Django closes a broken connection at the end of the request, so the next request reconnects.

A path under ``/api/`` that matches no endpoint answers JSON 404 rather than an HTML page.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DB_ERRORS = (OperationalError, InterfaceError)
_FLAG = "_verdict_database_unavailable"
_LOG_EVERY_SECONDS = 10.0

_log_lock = threading.Lock()
_last_logged = 0.0


def database_unavailable_message() -> str:
    return gettext("The database is unavailable for a moment. Retry the same request shortly.")


def log_database_unavailable(exc: BaseException) -> None:
    """One warning per ``_LOG_EVERY_SECONDS`` while the database is down, not one per request."""
    global _last_logged
    now = time.monotonic()
    with _log_lock:
        if now - _last_logged < _LOG_EVERY_SECONDS:
            return
        _last_logged = now
    logger.warning("database unavailable, answering 503: %s", type(exc).__name__)


def close_broken_connections() -> None:
    """Close database connections that no longer work (outside a transaction), so the next
    query reconnects even where the request-end cleanup does not run (the test client)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None or conn.in_atomic_block:
            continue
        try:
            usable = conn.is_usable()
        except Exception:
            usable = False
        if not usable:
            conn.close()


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 answer (JSON for API clients) with ``Retry-After``."""
    close_broken_connections()
    message = database_unavailable_message()
    if wants_json(request):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _mark_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Remember on the request that the exception being handled is a database outage (it may
    have been raised by a middleware, where ``process_exception`` does not see it)."""
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DB_ERRORS):
        setattr(request, _FLAG, exc)


got_request_exception.connect(_mark_database_error, dispatch_uid="verdict-database-unavailable")


class DatabaseUnavailableMiddleware:
    """503 with ``Retry-After`` for database outages; JSON 404 for unknown API paths."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, _FLAG, None)
        if exc is not None and response.status_code == 500:
            log_database_unavailable(exc)
            return database_unavailable_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return JsonResponse({"detail": gettext("No API endpoint at this address.")}, status=404)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DB_ERRORS):
            log_database_unavailable(exception)
            return database_unavailable_response(request)
        return None
