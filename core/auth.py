"""Bearer API keys for DRF: ``Authorization: Bearer <key>``; only the key's SHA-256 is stored."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

from core.caches import bytes_cache, entry_bytes
from core.models import ApiKey

logger = logging.getLogger(__name__)
# An ApiKey instance as looked up (its fields, model state and dicts), besides its name, measured
# with tracemalloc, with a margin for the spread between runs and databases;
# tests/core/test_caches.py checks it.
API_KEY_OBJECT_BYTES = 1300
KEY_CACHE_BYTES = 2 * 1024 * 1024
USED_MARKS_BYTES = 512 * 1024

_lock = threading.Lock()


def _key_entry_bytes(digest: str, value: tuple[float, ApiKey | None]) -> int:
    key = value[1]
    if key is None:
        return entry_bytes(digest, value, value[0])
    return entry_bytes(digest, value, value[0], key.name) + API_KEY_OBJECT_BYTES


def _mark_entry_bytes(digest: str, until: float) -> int:
    return entry_bytes(digest, until)


# Looked-up keys (and unknown ones, as None) by SHA-256, with the monotonic time of the lookup,
# remembered briefly so the hot path (assign, events) skips a query per call. A revoked key keeps
# working for at most VERDICT_API_KEY_CACHE_SECONDS (30 by default) on a server that saw it; on
# the server that revoked it, it stops at once.
_key_cache = bytes_cache(
    "api keys",
    holds="looked-up API keys (and unknown ones) by SHA-256, for VERDICT_API_KEY_CACHE_SECONDS",
    maxbytes=KEY_CACHE_BYTES,
    entry_size=_key_entry_bytes,
    lock=_lock,
)
# Keys whose last use this process recorded (or saw recorded), by hash: the monotonic time until
# which it is not written again. Checked first, so a call within the interval costs a lookup.
_used_marks = bytes_cache(
    "api key last-use marks",
    holds="per API key, until when its last use need not be written again",
    maxbytes=USED_MARKS_BYTES,
    entry_size=_mark_entry_bytes,
    lock=_lock,
)
# How long a key that authenticated stays known as in use (api_key_in_use) after its last lookup.
IN_USE_SECONDS = 24 * 3600


def last_used_interval() -> timedelta:
    """How often a key's ``last_used_at`` is written at most (the setting
    ``VERDICT_API_KEY_LAST_USED_MINUTES``, 5 by default)."""
    return timedelta(minutes=float(getattr(settings, "VERDICT_API_KEY_LAST_USED_MINUTES", 5)))


def api_key_used(key: ApiKey) -> None:
    """Record that ``key`` authenticated a request, without a write per request.

    At most once per key per interval: this process remembers until when it need not record
    the key again (a dict lookup, no query, in between); across processes the cache's atomic
    ``add`` lets one of them through; the UPDATE itself only touches a row whose
    ``last_used_at`` is older than the interval. Best effort: a database or cache failure is
    logged and never fails the request.
    """
    now = time.monotonic()
    interval = last_used_interval()
    seconds = interval.total_seconds()
    with _lock:
        if now < _used_marks.get(key.key_hash, 0.0):
            return
        _used_marks[key.key_hash] = now + seconds
    try:
        if not cache.add(
            f"verdict:api-key-used:{key.key_hash[:32]}", 1, timeout=max(1, int(seconds))
        ):
            return  # another process recorded it within the interval
    except Exception:  # noqa: BLE001 - best effort; the database condition still bounds writes
        logger.warning("api key %s: cache unavailable for last-use mark", key.pk, exc_info=True)
    when = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: a failure leaves the request's work intact
            ApiKey.objects.filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=when - interval), pk=key.pk
            ).update(last_used_at=when)
    except Exception:  # noqa: BLE001 - recording use must never fail the request
        with _lock:
            _used_marks.pop(key.key_hash, None)
        logger.warning("api key %s: last use not recorded", key.pk, exc_info=True)
        return
    key.last_used_at = when


def bearer_token(request: Any) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header; None when the header is missing,
    of another scheme, or malformed (no key, or more than one word)."""
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw or " " in raw:
        return None
    return raw


def _in_use_mark(digest: str) -> str:
    return f"verdict:api-key-in-use:{digest[:32]}"


def api_key_lookup(raw_key: str) -> ApiKey | None:
    """The active key with this secret, or None; records its use (``api_key_used``)."""
    digest = ApiKey.hash_key(raw_key)
    now = time.monotonic()
    with _lock:
        hit = _key_cache.get(digest)
        fresh = hit is not None and now - hit[0] < settings.VERDICT_API_KEY_CACHE_SECONDS
        if hit is not None and fresh and hit[1] is not None and now < _used_marks.get(digest, 0.0):
            return hit[1]  # known, and its use recorded within the interval: one lock, no query
    if hit is not None and fresh:
        key = hit[1]
    else:
        key = ApiKey.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
        with _lock:
            _key_cache[digest] = (now, key)
        if key is not None:
            try:  # shared with every server: this key is valid and in use (api_key_in_use)
                cache.set(_in_use_mark(digest), 1, timeout=IN_USE_SECONDS)
            except Exception:  # noqa: BLE001 - best effort, like the last-use mark
                logger.warning("api key %s: cache unavailable for in-use mark", key.pk)
    if key is not None:
        api_key_used(key)
    return key


def api_key_in_use(raw_key: str) -> bool:
    """Whether ``raw_key`` authenticated a request recently, on this server (its key cache) or
    on any server sharing the cache (a mark kept ``IN_USE_SECONDS`` after each lookup).

    An address over its limit of refused credentials is still served with such a key, so one
    app's failing key does not lock out the other apps behind the same address. The key is
    then authenticated as usual: a key revoked since is refused.
    """
    digest = ApiKey.hash_key(raw_key)
    with _lock:
        hit = _key_cache.get(digest)
    if hit is not None and hit[1] is not None:
        return True
    try:
        return bool(cache.get(_in_use_mark(digest)))
    except Exception:  # noqa: BLE001 - cache down: not known to be in use
        return False


def api_key_cache_clear() -> None:
    """Forget every looked-up key and last-use mark of this process (after a revocation here)."""
    with _lock:
        _key_cache.clear()
        _used_marks.clear()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[ApiKey, ApiKey] | None:
        scheme = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[0]
        if scheme.lower() != self.keyword.lower():
            return None
        raw = bearer_token(request)
        if raw is None:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <key>'."
            )
        key = api_key_lookup(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return key, key

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
