from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import ApiKey, ApiKeyRole

from .errors import ValidationFailed


def api_key_create(*, name: str, role: str, created_by: Any = None) -> tuple[ApiKey, str]:
    """Create an API key; returns the stored row and the raw key, which is shown only once.

    ``created_by`` is the signed-in person who made it (the web page, the admin); keys made by
    ``manage.py create_api_key`` have none and are listed as made on the command line."""
    if role not in ApiKeyRole.values:
        raise ValidationFailed(
            {"role": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(ApiKeyRole.values)}]}
        )
    if not name.strip():
        raise ValidationFailed({"name": [_("A key needs a name.")]})
    raw = "vk_" + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip(),
        role=role,
        prefix=raw[:10],
        key_hash=ApiKey.hash_key(raw),
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key: it stops authenticating at once on this server and within
    ``VERDICT_API_KEY_CACHE_SECONDS`` on servers that looked it up recently. Revoking twice
    keeps the first time."""
    from .auth import api_key_cache_clear

    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    api_key_cache_clear()
    return key


def api_key_list() -> list[ApiKey]:
    """Every key, active first, then by name (only prefixes: raw keys are never stored)."""
    return list(
        ApiKey.objects.select_related("created_by").order_by(
            models.F("revoked_at").asc(nulls_first=True), "name"
        )
    )


def api_key_find(*, ident: str) -> ApiKey:
    """The key with this id or prefix (as ``api_key_list`` shows); refuses an ambiguous prefix."""
    if ident.isdigit():
        key = ApiKey.objects.filter(pk=int(ident)).first()
        if key is not None:
            return key
    matches = list(ApiKey.objects.filter(prefix=ident)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValidationFailed(
            {"key": [_("Several keys start with %(prefix)s; give the id.") % {"prefix": ident}]}
        )
    raise ValidationFailed(
        {"key": [_("No API key with id or prefix %(ident)s.") % {"ident": ident}]}
    )
