"""Recording exposures: the first assignment of a unit into a running experiment, per phase.

``exposures_record`` writes with one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement
(PostgreSQL and SQLite) in autocommit, so the rows are stored when it returns:

- a new (experiment, phase, unit_id) is inserted with its variant, the hashed ``bucket_id``,
  ``forced`` for QA overrides, the attributes sent and the first-exposure time;
- an existing row is left alone when it has the same variant; when this call resolved to
  another variant (the unit's attributes changed, or an override was added), the row gets
  ``multiple_variants = true`` (analysis leaves such units out); a forced answer also marks an
  existing row ``forced``. The first variant and time are never overwritten.

Concurrent calls for the same unit cannot create two rows: the unique constraint decides, and
the losers take the conflict branch.

Repeated calls stay cheap: each process remembers, in a bounded LRU, the (experiment, phase,
unit_id) it has already written together with the variant it wrote; a call that resolves to the
remembered variant skips the database. That is safe because a remembered row exists (the write
committed before it was remembered) and either has that variant or is already flagged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from assignment.models import Exposure

from .assign import Assignment

__all__ = ["exposure_cache_clear", "exposures_record"]

_ExposureKey = tuple[int, int, str]


class _RecordedUnits:
    """A thread-safe LRU of (experiment id, phase, unit_id) -> variant id already written."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[_ExposureKey, int] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, key: _ExposureKey, variant_id: int) -> bool:
        with self._lock:
            if self._data.get(key) == variant_id:
                self._data.move_to_end(key)
                return True
            return False

    def add(self, key: _ExposureKey, variant_id: int) -> None:
        with self._lock:
            self._data[key] = variant_id
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_recorded = _RecordedUnits(getattr(settings, "VERDICT_EXPOSURE_CACHE_SIZE", 100_000))


def exposure_cache_clear() -> None:
    """Forget which exposures this process has written (the next calls write again)."""
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


def _sql(rows: int) -> str:
    table = connection.ops.quote_name(Exposure._meta.db_table)
    placeholders = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    return (
        f"INSERT INTO {table} AS e ({', '.join(_COLUMNS)}) "
        f"VALUES {', '.join([placeholders] * rows)} "
        "ON CONFLICT (experiment_id, phase, unit_id) DO UPDATE SET "
        "multiple_variants = e.multiple_variants OR e.variant_id <> excluded.variant_id, "
        "forced = e.forced OR excluded.forced "
        "WHERE (e.variant_id <> excluded.variant_id AND NOT e.multiple_variants) "
        "OR (excluded.forced AND NOT e.forced)"
    )


_attributes_field = Exposure._meta.get_field("attributes")
_time_field = Exposure._meta.get_field("first_exposed_at")


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
    for a in assignments:
        if not a.record or a.experiment is None or a.variant is None:
            continue
        key = (a.experiment.id, a.experiment.phase, unit_id)
        if not _recorded.seen(key, a.variant.id):
            pending.append((key, a))
    if not pending:
        return 0
    when = _time_field.get_db_prep_save(now or timezone.now(), connection)
    stored_attributes = _attributes_field.get_db_prep_save(attributes, connection)
    params: list = []
    # A fixed order keeps concurrent multi-row writes from deadlocking on each other's rows.
    pending.sort(key=lambda item: item[0])
    for (experiment_id, phase, _), a in pending:
        assert a.variant is not None  # for the type checker: filtered above
        params.extend(
            (
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
        )
    with connection.cursor() as cursor:
        cursor.execute(_sql(len(pending)), params)
    written = [(key, a.variant.id) for key, a in pending if a.variant is not None]

    def remember() -> None:
        for key, variant_id in written:
            _recorded.add(key, variant_id)

    # Remember only what is committed: at once in autocommit, else when the caller commits.
    transaction.on_commit(remember)
    return len(pending)
