"""A version counter for experiment definitions, shared through the cache backend.

Every process that serves assignments keeps definitions in memory and compares its copy's
version with this counter; a change to any experiment bumps it (after the transaction commits),
so every server reloads on its next request. With Redis as the cache backend the counter is
shared by all servers; with the local-memory default it is per process.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "verdict:definitions-version"


def definitions_version() -> int:
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        value = cache.get(VERSION_KEY, 1)
    return int(value)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def definitions_changed() -> None:
    """Mark definitions as changed once the current transaction commits."""
    transaction.on_commit(_bump)
