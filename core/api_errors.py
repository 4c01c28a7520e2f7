"""One error shape for the whole API: ``{"field": ["message", ...]}`` with a fitting status."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import TransitionNotAllowed, ValidationFailed


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, TransitionNotAllowed):
        return Response(exc.errors, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ValidationFailed):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
