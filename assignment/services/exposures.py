"""Recording exposures: the first assignment of a unit into a running experiment, per phase.

``exposures_record`` writes in autocommit (PostgreSQL and SQLite), so the rows are stored when
it returns:

- one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` stores every new (experiment, phase,
  unit_id) with its variant, the hashed ``bucket_id``, ``forced`` for QA overrides, the
  attributes sent and the first-exposure time;
- only when some rows already existed, one ``UPDATE ... FROM (VALUES ...)`` marks those whose
  stored variant differs from this call's (the unit's attributes changed, or an override was
  added) with ``multiple_variants = true`` (analysis leaves such units out), and marks a row
  ``forced`` when this call was forced. The first variant and time are never overwritten.
  Neither statement writes anything for a unit already stored with the same variant, so such a
  call costs no commit to disk.

Concurrent calls for the same unit cannot create two rows: the unique constraint decides, and
the losers see the winner's row in the second statement.

Repeated calls stay cheap: each process remembers, in an LRU bounded in bytes
(``VERDICT_EXPOSURE_CACHE_BYTES``, registered in ``core.caches``), the (experiment, phase,
unit_id) it has already written together with the variant it wrote; a call that resolves to the
remembered variant skips the database. That is safe because a remembered row exists (the write
committed before it was remembered) and either has that variant or is already flagged.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from assignment.models import Exposure
from core.caches import ENTRY_OVERHEAD, bytes_cache

from .assign import Assignment

__all__ = ["exposure_cache_clear", "exposures_record"]

_ExposureKey = tuple[int, int, str]


# An entry: the cache's own overhead, the key tuple and an int of it (the ids are mostly shared
# with the definitions), plus the unit id; tests/core/test_caches.py checks it against measured
# memory.
_ENTRY_FIXED = ENTRY_OVERHEAD + sys.getsizeof((0, 0, "")) + 32


def _entry_bytes(key: _ExposureKey, variant_id: int) -> int:
    return _ENTRY_FIXED + sys.getsizeof(key[2])


_lock = threading.Lock()
# (experiment id, phase, unit_id) -> the variant id written for it.
_recorded = bytes_cache(
    "exposures",
    holds="exposures this process wrote, with their variant, to skip the database for repeats",
    maxbytes=settings.VERDICT_EXPOSURE_CACHE_BYTES,
    entry_size=_entry_bytes,
    lock=_lock,
    setting="VERDICT_EXPOSURE_CACHE_BYTES",
)


def exposure_cache_clear() -> None:
    """Forget which exposures this process has written (the next calls write again)."""
    with _lock:
        _recorded.clear()


_COLUMNS = (
    "experiment_id",
    "phase",
    "unit_id",
    "bucket_id",
    "variant_id",
    "forced",
    "multiple_variants",
    "attributes",
    "first_exposed_at",
)


def _insert_sql(rows: int) -> str:
    table = connection.ops.quote_name(Exposure._meta.db_table)
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(_COLUMNS)}) "
        f"VALUES {', '.join([placeholders] * rows)} "
        "ON CONFLICT (experiment_id, phase, unit_id) DO NOTHING "
        "RETURNING experiment_id, phase, unit_id"
    )


def _flag_sql(rows: int) -> str:
    """Flag existing rows of one unit: VALUES rows are (experiment_id, phase, variant_id,
    forced), named column1..column4 by both PostgreSQL and SQLite."""
    table = connection.ops.quote_name(Exposure._meta.db_table)
    return (
        f"UPDATE {table} AS e SET "
        "multiple_variants = e.multiple_variants OR e.variant_id <> v.column3, "
        "forced = e.forced OR v.column4 "
        f"FROM (VALUES {', '.join(['(%s, %s, %s, %s)'] * rows)}) AS v "
        "WHERE e.experiment_id = v.column1 AND e.phase = v.column2 AND e.unit_id = %s "
        "AND ((e.variant_id <> v.column3 AND NOT e.multiple_variants) "
        "OR (v.column4 AND NOT e.forced))"
    )


def exposure_row(key: _ExposureKey, a: Assignment, *, stored_attributes: Any, when: Any) -> tuple:
    """The stored row of one exposure (``_COLUMNS`` order): the rule for what a first exposure
    writes, shared by ``exposures_record`` and the bulk path (``assignment.services.bulk``)."""
    assert a.variant is not None  # callers pass only assignments to record
    experiment_id, phase, unit_id = key
    return (
        experiment_id,
        phase,
        unit_id,
        a.bucket_id or unit_id,
        a.variant.id,
        a.reason == "forced",
        False,
        stored_attributes,
        when,
    )


def exposure_rows_insert(cursor: Any, rows: Sequence[tuple]) -> set[_ExposureKey]:
    """Insert ``rows`` (from ``exposure_row``) that are not stored yet; returns the keys of
    those written (the others existed already)."""
    cursor.execute(_insert_sql(len(rows)), [value for row in rows for value in row])
    return {(e, p, u) for e, p, u in cursor.fetchall()}


def exposures_flag(cursor: Any, unit_id: str, existing: Sequence[Assignment]) -> None:
    """For a unit whose rows existed: mark those whose stored variant differs from this call's
    ``multiple_variants`` and those this call forced ``forced``; never overwrite the first
    variant or time."""
    if not existing:
        return
    params: list = []
    for a in existing:
        assert a.experiment is not None and a.variant is not None
        params.extend((a.experiment.id, a.experiment.phase, a.variant.id, a.reason == "forced"))
    params.append(unit_id)
    cursor.execute(_flag_sql(len(existing)), params)


_attributes_field = Exposure._meta.get_field("attributes")
_time_field = Exposure._meta.get_field("first_exposed_at")


def exposure_attributes_value(attributes: dict) -> Any:
    """The attributes as the database stores them."""
    return _attributes_field.get_db_prep_save(attributes, connection)


def exposure_time_value(when: datetime) -> Any:
    """The first-exposure time as the database stores it."""
    return _time_field.get_db_prep_save(when, connection)


def exposure_values(attributes: dict, when: datetime) -> tuple[Any, Any]:
    """The attributes and first-exposure time as the database stores them."""
    return exposure_attributes_value(attributes), exposure_time_value(when)


def exposures_record(
    *,
    unit_id: str,
    attributes: dict,
    assignments: Sequence[Assignment],
    now: datetime | None = None,
) -> int:
    """Store the exposures among ``assignments`` (those with ``record``); return how many rows
    were written or checked in the database (0 when every one was already known here)."""
    pending: list[tuple[_ExposureKey, Assignment]] = []
    with _lock:
        for a in assignments:
            if not a.record or a.experiment is None or a.variant is None:
                continue
            key = (a.experiment.id, a.experiment.phase, unit_id)
            if _recorded.get(key) != a.variant.id:
                pending.append((key, a))
    if not pending:
        return 0
    stored_attributes, when = exposure_values(attributes, now or timezone.now())
    # A fixed order keeps concurrent multi-row writes from deadlocking on each other's rows.
    pending.sort(key=lambda item: item[0])
    rows = [
        exposure_row(key, a, stored_attributes=stored_attributes, when=when) for key, a in pending
    ]
    with connection.cursor() as cursor:
        inserted = exposure_rows_insert(cursor, rows)
        exposures_flag(cursor, unit_id, [a for key, a in pending if key not in inserted])
    written = [(key, a.variant.id) for key, a in pending if a.variant is not None]

    def remember() -> None:
        with _lock:
            for key, variant_id in written:
                _recorded[key] = variant_id

    # Remember only what is committed: at once in autocommit, else when the caller commits.
    transaction.on_commit(remember)
    return len(pending)
