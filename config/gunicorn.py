"""gunicorn settings for Verdict: ``gunicorn -c python:config.gunicorn config.wsgi:application``.

gunicorn answers some malformed requests itself, before Django sees them: a request line over
``limit_request_line`` (414), a bad ``Content-Length`` or header (400), too many or too large
headers (431). Its own answers are HTML; here they are JSON (``{"detail": ...}``), the shape
every other error of the API has. Anything else is set on the command line as usual.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util

# Request lines up to this many bytes reach Django (gunicorn's default is 4094); longer ones get
# a JSON 414 from gunicorn.
limit_request_line = 8190


def json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's error writer, answering JSON instead of an HTML page."""
    detail = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


def on_starting(server: Any) -> None:
    # The workers are forked from the arbiter after this hook: they all write JSON errors.
    util.write_error = json_error
