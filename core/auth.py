"""Bearer API keys for DRF: ``Authorization: Bearer <key>``; only the key's SHA-256 is stored."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework import authentication, exceptions

from core.models import ApiKey

# Looked-up keys are remembered briefly so the hot path (assign, events) skips a query per call.
# A revoked key keeps working for at most VERDICT_API_KEY_CACHE_SECONDS (30 by default) on a
# server that saw it; on the server that revoked it, it stops at once.
_key_cache: dict[str, tuple[float, ApiKey | None]] = {}


def api_key_lookup(raw_key: str) -> ApiKey | None:
    digest = ApiKey.hash_key(raw_key)
    now = time.monotonic()
    hit = _key_cache.get(digest)
    if hit is not None and now - hit[0] < settings.VERDICT_API_KEY_CACHE_SECONDS:
        return hit[1]
    key = ApiKey.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
    if len(_key_cache) > 10_000:
        _key_cache.clear()
    _key_cache[digest] = (now, key)
    return key


def api_key_cache_clear() -> None:
    _key_cache.clear()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[ApiKey, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <key>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        key = api_key_lookup(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return key, key

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
