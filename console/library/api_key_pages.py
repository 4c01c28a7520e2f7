"""The API keys page (admins only): create a key with a role, shown once; list; revoke."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.errors import forbidden
from console.labels import API_KEY_ROLE_LABELS, choices
from core.api_keys import api_key_create, api_key_revoke
from core.auth import last_used_interval
from core.errors import ValidationFailed
from core.models import ApiKey, ApiKeyRole
from core.roles import is_admin

TEMPLATE = "experiments/apikey_list.html"


def _refused(request: HttpRequest) -> HttpResponse | None:
    """The 403 page in the frame for anyone but an admin; None for an admin."""
    if is_admin(request.user):
        return None
    return forbidden(request, _("Only admins manage API keys."))


def _keys() -> list[ApiKey]:
    """Active keys first, newest first, with their creators (one query); ``used_just_now``
    marks a last use under a minute ago (shown as "just now" rather than "0 minutes ago")."""
    keys = list(ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at"))
    minute_ago = timezone.now() - timedelta(minutes=1)
    for key in keys:
        key.used_just_now = key.last_used_at is not None and key.last_used_at > minute_ago
    return keys


def _minutes() -> str:
    return f"{last_used_interval().total_seconds() / 60:g}"


@login_required
def api_key_list_page(request: HttpRequest) -> HttpResponse:
    if (refused := _refused(request)) is not None:
        return refused
    errors: dict[str, list[str]] = {}
    created = raw_key = None
    values = {"name": "", "role": ApiKeyRole.APP}
    if request.method == "POST":
        values = {"name": request.POST.get("name", ""), "role": request.POST.get("role", "")}
        try:
            created, raw_key = api_key_create(
                name=values["name"], role=values["role"], created_by=request.user
            )
        except ValidationFailed as failed:
            errors = failed.errors
        else:
            values = {"name": "", "role": ApiKeyRole.APP}
    context = {
        "nav": "api-keys",
        "keys": _keys(),
        "last_used_minutes": _minutes(),
        "roles": choices(API_KEY_ROLE_LABELS, ApiKeyRole.values),
        "values": values,
        "errors": errors,
        "created": created,
        "raw_key": raw_key,
    }
    template = TEMPLATE
    if request.htmx:
        template += "#api-keys"
    return render(request, template, context)


@login_required
@require_POST
def api_key_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    if (refused := _refused(request)) is not None:
        return refused
    key = get_object_or_404(ApiKey, pk=pk)
    api_key_revoke(key=key)
    if request.htmx:
        return render(
            request,
            TEMPLATE + "#api-keys",
            {"keys": _keys(), "last_used_minutes": _minutes(),
             "roles": choices(API_KEY_ROLE_LABELS, ApiKeyRole.values),
             "values": {"name": "", "role": ApiKeyRole.APP}, "errors": {}},
        )  # fmt: skip
    messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
    return redirect("web:api-key-list")
