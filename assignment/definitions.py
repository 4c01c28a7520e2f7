"""In-process cache of the experiment definitions the assign API needs.

The assign hot path never reads experiments from the database per request. Each process keeps
one immutable :class:`Definitions` snapshot and replaces it when the shared version counter
(``experiments.services.definitions_cache``) changes: every experiment change and every QA
override change bumps that counter once its transaction commits.

Staleness bound (both settings can be given as Django settings or environment variables):

- the counter is read from the cache backend at most once every
  ``VERDICT_DEFINITIONS_CHECK_SECONDS`` (default 1; 0 checks on every request, one cache GET
  each, which costs about as much as the rest of an assign call with Redis), so with a shared
  cache (``CACHE_URL=redis://...``) every process serves a change at most that long after its
  transaction commits;
- independently, a snapshot older than ``VERDICT_DEFINITIONS_MAX_AGE_SECONDS`` (default 30) is
  reloaded from the database. This bounds staleness when the cache backend is per process (the
  local-memory default with several server processes) or was flushed.

When the cache backend cannot be reached (Redis stopped), assign fails open: each process keeps
answering from the definitions it has, still reloads them from the database once they are
``VERDICT_DEFINITIONS_MAX_AGE_SECONDS`` old, and logs one warning when the outage starts and one
line when the cache answers again. Changes made during the outage could not bump the counter,
so the first successful check after it reloads.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from assignment.hashing import bucket_ranges
from core.caches import snapshot_register
from experiments.models import Experiment, ExperimentStatus
from experiments.services.definitions_cache import definitions_version

__all__ = [
    "Definitions",
    "ExperimentDef",
    "VariantDef",
    "definitions_clear",
    "definitions_get",
]

logger = logging.getLogger(__name__)

S = ExperimentStatus
# The version of definitions loaded while the shared counter could not be read: never equal to
# a real version, so the first successful check reloads.
UNKNOWN_VERSION = -1
# Statuses whose full definition is loaded. Archived experiments are only known by key.
LOADED = (S.DRAFT, S.RUNNING, S.PAUSED, S.STOPPED, S.CONCLUDED)
# Statuses answered when a call names no experiments.
LIVE = (S.RUNNING, S.PAUSED)


@dataclass(frozen=True, slots=True)
class VariantDef:
    id: int
    key: str
    payload: Any
    is_control: bool


@dataclass(frozen=True, slots=True)
class ExperimentDef:
    """What assigning a unit to one experiment needs, precomputed once per reload."""

    id: int
    key: str
    status: str
    salt: str
    phase: int
    coverage: float
    unit_attribute: str
    targeting: dict[str, Any]
    layer_key: str | None
    layer_start: float | None
    layer_end: float | None
    variants: tuple[VariantDef, ...]
    ranges: tuple[tuple[float, float], ...]
    control: VariantDef | None
    # What a stopped or concluded experiment serves: the shipped winner, else the control.
    served_when_stopped: VariantDef | None
    overrides: dict[str, VariantDef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Definitions:
    version: int
    loaded_at: float
    by_key: dict[str, ExperimentDef]
    archived: frozenset[str]
    live_keys: tuple[str, ...]

    def status_of(self, key: str) -> str | None:
        defn = self.by_key.get(key)
        if defn is not None:
            return defn.status
        return S.ARCHIVED if key in self.archived else None


def _experiment_def(exp: Experiment) -> ExperimentDef:
    ordered = sorted(exp.variants.all(), key=lambda v: (v.position, v.id))
    variants = tuple(
        VariantDef(id=v.id, key=v.key, payload=v.payload, is_control=v.is_control) for v in ordered
    )
    by_id = {v.id: v for v in variants}
    control = next((v for v in variants if v.is_control), None)
    total = sum(v.weight for v in ordered)
    weights = [v.weight / total for v in ordered] if total > 0 else None
    ranges = tuple(bucket_ranges(len(variants), exp.coverage, weights))
    winner = by_id.get(exp.winner_id) if exp.winner_id else None
    overrides = {
        o.unit_id: by_id[o.variant_id] for o in exp.overrides.all() if o.variant_id in by_id
    }
    return ExperimentDef(
        id=exp.id,
        key=exp.key,
        status=exp.status,
        salt=exp.hash_seed,
        phase=exp.phase,
        coverage=exp.coverage,
        unit_attribute=exp.unit_attribute or "user_id",
        targeting=exp.targeting if isinstance(exp.targeting, dict) else {},
        layer_key=exp.layer.key if exp.layer_id else None,
        layer_start=exp.layer_start,
        layer_end=exp.layer_end,
        variants=variants,
        ranges=ranges,
        control=control,
        served_when_stopped=winner or control,
        overrides=overrides,
    )


def _load(version: int) -> Definitions:
    experiments = (
        Experiment.objects.filter(status__in=LOADED)
        .select_related("layer")
        .prefetch_related("variants", "overrides")
    )
    by_key = {exp.key: _experiment_def(exp) for exp in experiments}
    archived = frozenset(Experiment.objects.filter(status=S.ARCHIVED).values_list("key", flat=True))
    live = tuple(sorted(k for k, d in by_key.items() if d.status in LIVE))
    return Definitions(
        version=version,
        loaded_at=time.monotonic(),
        by_key=by_key,
        archived=archived,
        live_keys=live,
    )


_lock = threading.Lock()
_current: Definitions | None = None
_checked_at = 0.0
_cache_down = False


def _shared_version() -> int:
    """The shared counter, or ``UNKNOWN_VERSION`` while the cache backend cannot be reached
    (logged once per outage)."""
    global _cache_down
    try:
        version = definitions_version()
    except Exception as exc:  # any backend error: redis ConnectionError, TimeoutError, ...
        if not _cache_down:
            _cache_down = True
            logger.warning(
                "definitions version check failed (%s: cache unavailable); assign serves the "
                "definitions in memory, reloaded from the database every %s s, until it returns",
                type(exc).__name__,
                settings.VERDICT_DEFINITIONS_MAX_AGE_SECONDS,
            )
        return UNKNOWN_VERSION
    if _cache_down:
        _cache_down = False
        logger.warning("definitions version check works again: the cache is reachable")
    return version


def definitions_get() -> Definitions:
    """The current definitions, reloaded when the shared version changed or the copy is old."""
    global _current, _checked_at
    now = time.monotonic()
    current = _current
    check_every = settings.VERDICT_DEFINITIONS_CHECK_SECONDS
    max_age = settings.VERDICT_DEFINITIONS_MAX_AGE_SECONDS
    if current is not None and now - current.loaded_at < max_age:
        if check_every > 0 and now - _checked_at < check_every:
            return current
        version = _shared_version()
        _checked_at = now
        if version == current.version:
            return current
        if version == UNKNOWN_VERSION:
            # Fail open: keep serving this copy; it reloads once it is max_age old, and the
            # first successful check after the outage reloads it.
            with _lock:
                if _current is current:
                    _current = dataclasses.replace(current, version=UNKNOWN_VERSION)
                return _current if _current is not None else current
    else:
        version = _shared_version()
    with _lock:
        # Another thread may have reloaded meanwhile.
        if _current is not None and _current is not current and _current.version == version:
            return _current
        # Read the version before loading: a change committed during the load bumps it again.
        _current = _load(version)
        _checked_at = time.monotonic()
        return _current


def definitions_clear() -> None:
    """Forget the in-process copy (the next call reloads from the database)."""
    global _current, _checked_at
    with _lock:
        _current = None
        _checked_at = 0.0


snapshot_register(
    "definitions",
    holds="the experiment definitions assign serves (one snapshot, replaced on change)",
    clear=definitions_clear,
    present=lambda: _current is not None,
)
