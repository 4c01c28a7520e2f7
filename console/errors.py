"""Refusals in the page frame: one home for the console's "you may not do this" page.

``handler403`` (``config/urls.py``) renders every ``PermissionDenied`` raised by a page this way,
with the reason it carries; a view that refuses on purpose returns ``forbidden`` directly, so
an expected refusal logs one line, not a traceback.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

TEMPLATE = "403.html"


def forbidden(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The 403 page inside the frame (top bar, language, role), saying why and where to go."""
    context = {"reason": reason or _("Your role does not allow this page.")}
    return render(request, TEMPLATE, context, status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's ``handler403``: the refusal's own message when it has one."""
    reason = str(exception) if exception is not None and exception.args else ""
    return forbidden(request, reason)
