from __future__ import annotations

import secrets

from django.utils import timezone

from core.models import ApiKey, ApiKeyRole

from .errors import ValidationFailed


def api_key_create(*, name: str, role: str) -> tuple[ApiKey, str]:
    """Create an API key; returns the stored row and the raw key, which is shown only once."""
    if role not in ApiKeyRole.values:
        raise ValidationFailed({"role": [f"Choose one of: {', '.join(ApiKeyRole.values)}."]})
    if not name.strip():
        raise ValidationFailed({"name": ["A key needs a name."]})
    raw = "vk_" + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip(), role=role, prefix=raw[:10], key_hash=ApiKey.hash_key(raw)
    )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key: it stops authenticating at once on this server and within
    ``KEY_CACHE_SECONDS`` on servers that looked it up recently. Revoking twice keeps the first
    time."""
    from .auth import api_key_cache_clear

    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    api_key_cache_clear()
    return key
