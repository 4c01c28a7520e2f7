"""Every cache a Verdict process keeps in its own memory, registered in one place.

A server process must level off in memory whatever its traffic, so every in-process cache is
bounded, and in bytes where its entries vary in size (a unit id, an API key, a request body):

- ``bytes_cache(...)`` makes a :class:`BytesLRUCache` (cachetools' LRU cache, its bound counted
  in estimated bytes: each entry's size is estimated when it is stored, and the least recently
  used entries are dropped to stay within the bound) and registers it;
- ``function_cache_register(...)`` registers a pure function memoized with
  ``functools.lru_cache`` (kept for its speed on the assign path): its bound in bytes is its
  entry count times the size of its largest possible entry, given the caps on its input;
- ``snapshot_register(...)`` registers a cache of one value replaced as a whole (the
  definitions snapshot, the SDK payload built from it): its size follows the stored
  experiments, not the traffic, and is not tracked.

``caches_clear()`` empties every registered cache (the test suite calls it before each test: a
test starts from the database). ``caches_info()`` lists them with their bounds and current
sizes; ``docs/reliability.md`` has the table.

cachetools' caches are not thread-safe: every read and write of a ``BytesLRUCache`` happens
under the lock registered with it, which ``caches_clear`` takes too.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import LRUCache

__all__ = [
    "ENTRY_OVERHEAD",
    "BytesLRUCache",
    "CacheInfo",
    "bytes_cache",
    "caches_clear",
    "caches_info",
    "entry_bytes",
    "function_cache_register",
    "registered_targets",
    "snapshot_register",
]

# What a BytesLRUCache spends per entry besides the key and value objects themselves: its slots in
# cachetools' data dict, size dict and LRU order, and the size's int. Measured with tracemalloc on
# CPython 3.11, 64-bit, in the steady state of a full cache (entries dropped and stored all the
# time, so each dict keeps room for about twice its entries): about 280 bytes (170 while it
# first fills). tests/core/test_caches.py checks the estimates against measured memory.
ENTRY_OVERHEAD = 288


def entry_bytes(*objects: object) -> int:
    """The estimated bytes of one cache entry holding ``objects`` (the objects the entry keeps
    alive that nothing else does: a unit id, a tuple key, a body), plus ``ENTRY_OVERHEAD``."""
    return ENTRY_OVERHEAD + sum(sys.getsizeof(o) for o in objects)


class BytesLRUCache(LRUCache):
    """An LRU cache whose ``maxsize`` is a number of bytes.

    ``entry_size(key, value)`` estimates an entry's bytes when it is stored. Storing drops the
    least recently used entries until the new one fits; an entry larger than the whole bound is
    not stored (and a previous value of its key is dropped). ``currsize`` is the estimated bytes
    held.
    """

    def __init__(self, maxbytes: int, entry_size: Callable[[Any, Any], int]) -> None:
        self.entry_size = entry_size
        self._storing = 0
        super().__init__(maxbytes)

    def getsizeof(self, value: Any) -> int:  # type: ignore[override]
        # cachetools asks for the size of the value being stored; it was estimated from the key
        # and value just before (in __setitem__).
        return self._storing

    def __setitem__(self, key: Hashable, value: Any) -> None:
        size = self.entry_size(key, value)
        if size > self.maxsize:
            self.pop(key, None)
            return
        self._storing = size
        super().__setitem__(key, value)


class _Clearable(Protocol):
    def cache_clear(self) -> None: ...
    def cache_info(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """One registered cache: what it holds, its bound and its current size, in bytes.

    ``bound_bytes`` and ``size_bytes`` are None for a snapshot (one value, sized by the stored
    experiments); ``setting`` names the Django setting that sets the bound, if one does.
    """

    name: str
    holds: str
    bound_bytes: int | None
    size_bytes: int | None
    entries: int
    setting: str | None


@dataclass(frozen=True, slots=True)
class _Registered:
    name: str
    holds: str
    setting: str | None
    clear: Callable[[], None]
    info: Callable[[], tuple[int | None, int | None, int]]  # bound bytes, size bytes, entries
    target: object  # the cache, function or clear function (for tests: what is registered)


_registry: dict[str, _Registered] = {}
_registry_lock = threading.Lock()


def _register(entry: _Registered) -> None:
    with _registry_lock:
        _registry[entry.name] = entry


def bytes_cache(
    name: str,
    *,
    holds: str,
    maxbytes: int,
    entry_size: Callable[[Any, Any], int],
    lock: threading.Lock | threading.RLock,
    setting: str | None = None,
) -> BytesLRUCache:
    """A new ``BytesLRUCache`` of ``maxbytes``, registered as ``name``; ``lock`` is the lock its
    users hold around every access (``caches_clear`` takes it too)."""
    cache = BytesLRUCache(maxbytes, entry_size)

    def clear() -> None:
        with lock:
            cache.clear()

    def info() -> tuple[int | None, int | None, int]:
        with lock:
            return cache.maxsize, cache.currsize, len(cache)

    _register(_Registered(name, holds, setting, clear, info, cache))
    return cache


def function_cache_register(
    function: Callable[..., Any], *, name: str, holds: str, max_entry_bytes: int
) -> None:
    """Register a function memoized by ``functools.lru_cache``; its bound in bytes is its
    ``maxsize`` times ``max_entry_bytes`` (the largest entry its capped input can make)."""
    memo: _Clearable = function  # type: ignore[assignment]

    def info() -> tuple[int | None, int | None, int]:
        stats = memo.cache_info()
        return stats.maxsize * max_entry_bytes, stats.currsize * max_entry_bytes, stats.currsize

    _register(_Registered(name, holds, None, memo.cache_clear, info, function))


def snapshot_register(
    name: str, *, holds: str, clear: Callable[[], None], present: Callable[[], bool]
) -> None:
    """Register a cache of one value replaced as a whole; ``present()`` says whether it holds
    one now, ``clear()`` forgets it."""

    def info() -> tuple[int | None, int | None, int]:
        return None, None, 1 if present() else 0

    _register(_Registered(name, holds, None, clear, info, clear))


def caches_clear() -> None:
    """Empty every registered cache."""
    with _registry_lock:
        entries = list(_registry.values())
    for entry in entries:
        entry.clear()


def caches_info() -> list[CacheInfo]:
    """The registered caches, by name, with their bounds and current sizes."""
    with _registry_lock:
        entries = sorted(_registry.values(), key=lambda e: e.name)
    result = []
    for e in entries:
        bound, size, count = e.info()
        result.append(CacheInfo(e.name, e.holds, bound, size, count, e.setting))
    return result


def registered_targets() -> list[object]:
    """What each registration holds (the cache, the memoized function or the clear function)."""
    with _registry_lock:
        return [e.target for e in _registry.values()]
