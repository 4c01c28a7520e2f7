"""Structured logs with a request id on every line (structlog over the standard logging).

``logging_setup`` builds the ``LOGGING`` setting: every record, from Verdict, Django or any
library, goes through structlog's formatter and comes out as one JSON object per line
(``VERDICT_LOG_FORMAT=json``, production's default) or as readable key=value text
(``console``, the local default). ``RequestIdMiddleware`` gives each request an id (the
caller's ``X-Request-ID`` when it is a short token, a new one otherwise), adds it to every line
logged while the request is served, returns it in the ``X-Request-ID`` header and logs one
``request`` line (method, path, status, duration) at INFO.

This module imports no Django at load time: the settings import it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_PRE_CHAIN: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_setup(fmt: str, level: str) -> dict[str, Any]:
    """Configure structlog and return the ``LOGGING`` dict for ``fmt`` (json or console)."""
    if fmt not in ("json", "console"):
        raise ValueError(f"VERDICT_LOG_FORMAT must be json or console, not {fmt!r}")
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *_PRE_CHAIN,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_PRE_CHAIN, structlog.stdlib.ExtraAdder()],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        # Django's own loggers write through the same handler (not Django's plain ones).
        "loggers": {"django": {"handlers": [], "level": level, "propagate": True}},
    }


logger = logging.getLogger("verdict.request")


def request_id_for(header: str | None) -> str:
    """The caller's id when it is 8 to 64 letters, digits, '.', '_' or '-'; else a new one."""
    if header and _VALID_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds a request id to every log line of the request and returns it in a header."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        connect_request_finished()

    def __call__(self, request: Any) -> Any:
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        # The id stays bound until the response is closed (``request_finished``), so Django's
        # own line for a 4xx or 5xx answer, logged after the middleware, carries it too.
        return response


def _unbind(**kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()


def connect_request_finished() -> None:
    """Clear the request id when Django closes a response."""
    from django.core.signals import request_finished

    request_finished.connect(_unbind, dispatch_uid="verdict-request-id-unbind")
