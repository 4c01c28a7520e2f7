"""A version counter for experiment definitions, shared through the cache backend.

Every process that serves assignments keeps definitions in memory and compares its copy's
version with this counter; a change to any experiment bumps it (after the transaction commits),
so every server reloads on its next check. With Redis as the cache backend the counter is
shared by all servers; with the local-memory default it is per process.

The bump is best effort: when the cache cannot be reached, the committed change stays committed
and its request succeeds; servers then serve it within ``VERDICT_DEFINITIONS_MAX_AGE_SECONDS``
(each reloads definitions that old from the database), or at once when the cache returns
(``assignment.definitions`` reloads after any cache outage it noticed).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "verdict:definitions-version"


def definitions_version() -> int:
    """The shared version; raises the cache backend's error when it cannot be reached."""
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        value = cache.get(VERSION_KEY, 1)
    return int(value)


def _bump() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no counter yet (or the cache was flushed)
            cache.set(VERSION_KEY, 2, timeout=None)
    except Exception as exc:  # the change is committed: never turn it into an error
        logger.warning(
            "definitions changed but the cache could not be told (%s); servers serve the "
            "change within VERDICT_DEFINITIONS_MAX_AGE_SECONDS",
            type(exc).__name__,
        )


def definitions_changed() -> None:
    """Mark definitions as changed once the current transaction commits (best effort)."""
    transaction.on_commit(_bump)
