"""Request body limits: a body over the limit is answered with a JSON 413 on every endpoint.

The limit is ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB by default), except for the URL names in
``VERDICT_BODY_LIMITS`` (event batches may be 20 MB). The check reads ``Content-Length`` before
anything reads the body, so an oversized body is never read; Django's own check for form
bodies (``RequestDataTooBig``) is answered the same way by ``BodyLimitMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse


def body_limit(request: HttpRequest) -> int | None:
    """The largest body, in bytes, the request's endpoint accepts (None: no limit)."""
    match = request.resolver_match
    limits: dict[str, int] = settings.VERDICT_BODY_LIMITS
    if match is not None and match.url_name in limits:
        return limits[match.url_name]
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(limit: int | None) -> JsonResponse:
    limit_text = f"{limit:,} bytes" if limit is not None else "the limit"
    return JsonResponse(
        {"detail": f"The request body is over {limit_text}; send a smaller one."}, status=413
    )


class BodyLimitMiddleware:
    """Refuses bodies over the endpoint's limit with 413 before the view (or CSRF) reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        limit = body_limit(request)
        if limit is not None and length > limit:
            return too_large(limit)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return too_large(body_limit(request))
        return None
