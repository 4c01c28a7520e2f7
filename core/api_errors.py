"""One error shape for the whole API: ``{"field": ["message", ...]}`` with a fitting status.

A database outage (``OperationalError``/``InterfaceError``) and a service that cannot be reached
(``ServiceUnavailable``) answer 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceUnavailable, TransitionNotAllowed, ValidationFailed
from core.middleware import (
    DB_ERRORS,
    RETRY_AFTER_SECONDS,
    close_broken_connections,
    database_unavailable_message,
    log_database_unavailable,
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, TransitionNotAllowed):
        return Response(exc.errors, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationFailed):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ServiceUnavailable):
        headers = {"Retry-After": str(exc.retry_after)}
        return Response(exc.errors, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    if isinstance(exc, DB_ERRORS):
        log_database_unavailable(exc)
        close_broken_connections()
        return Response(
            {"detail": database_unavailable_message()},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return drf_exception_handler(exc, context)
