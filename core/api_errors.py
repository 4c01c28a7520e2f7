"""One error shape for the whole API: ``{"field": ["message", ...]}`` with a fitting status.

Fields inside nested input are named by their path, the way the services name them:
``variants[1].weight`` (an item of a list), ``denominator.event`` (a field of an object),
``weights.pro`` (a key of a map); a message about a nested value as a whole is under its path
(``metrics``), and one about the whole request under ``non_field_errors``. DRF's nested
serializer errors (``{"variants": {1: {"weight": [...]}}}``) are flattened to these paths here.

A database outage (``OperationalError``/``InterfaceError``) and a service that cannot be reached
(``ServiceUnavailable``) answer 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
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

NON_FIELD = "non_field_errors"


def flatten_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's (possibly nested) error detail as ``{"field.path[i]": ["message", ...]}``."""
    out: dict[str, list[str]] = {}

    def add(name: str, messages: list[str]) -> None:
        if messages:
            out.setdefault(name or NON_FIELD, []).extend(messages)

    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                name = f"{path}[{key}]"
            elif key == NON_FIELD:
                name = path
            else:
                name = f"{path}.{key}" if path else str(key)
            for field, messages in flatten_errors(value, name).items():
                add(field, messages)
    elif isinstance(detail, list | tuple):
        for i, item in enumerate(detail):
            if isinstance(item, dict | list | tuple):
                for field, messages in flatten_errors(item, f"{path}[{i}]").items():
                    add(field, messages)
            else:
                add(path, [str(item)])
    else:
        add(path, [str(detail)])
    return out


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
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = flatten_errors(response.data)
    return response
