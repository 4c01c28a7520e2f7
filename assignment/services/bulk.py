"""Bulk storage: many units' exposures and many events at once, under the per-call rules.

The simulator (``analysis.simulation``) and loaders of historical traffic store hundreds of
thousands of rows; going call by call through ``exposures_record`` and ``events_ingest`` costs
one statement per unit and one per 1,000 events. The functions here write the same rows in
large multi-row statements inside one transaction, and every rule has one home used by both
paths:

- an exposure's stored row (variant, ``bucket_id``, ``forced``, attributes, first time):
  ``exposures.exposure_row`` and ``exposures.exposure_values``; only answers with ``record``
  are stored; a unit already stored keeps its first variant and time and is flagged
  ``multiple_variants`` (or ``forced``) by ``exposures.exposures_flag``, as a repeated call is;
- an event's validation, clock-skew correction and time window: ``events.events_validate``
  with ``event_validation.TimeWindow``; the first of each ``event_id`` is stored and the rest
  are duplicates, by ``events.events_store`` (``ON CONFLICT (event_id) DO NOTHING``).

What differs: the bulk path does not fill the per-process memo of written exposures (it is a
loader, not the assign hot path), and rejected items are numbered across the whole input.
``tests/assignment/test_bulk.py`` checks that both paths store the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from .assign import Assignment
from .event_validation import TimeWindow
from .events import IngestResult, events_store, events_validate
from .exposures import (
    exposure_attributes_value,
    exposure_row,
    exposure_rows_insert,
    exposure_time_value,
    exposures_flag,
)

__all__ = ["BulkExposure", "events_ingest_bulk", "exposures_record_bulk"]

EXPOSURE_ROWS_PER_STATEMENT = 1000  # 9 parameters a row, within SQLite's 32,766
EVENTS_PER_CHUNK = 20_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BulkExposure:
    """One unit's answer to store, as ``exposures_record`` would for a call at ``at``."""

    unit_id: str
    attributes: dict[str, Any]
    assignment: Assignment
    at: datetime


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _stored_attributes(attributes: dict[str, Any], prepared: dict) -> Any:
    """``exposure_attributes_value``, remembered for attributes of plain values: simulated and
    loaded units share few distinct attribute sets."""
    try:
        key = tuple(attributes.items())
        hash(key)
    except TypeError:  # a list or object among the values
        return exposure_attributes_value(attributes)
    found = prepared.get(key)
    if found is None:
        found = prepared[key] = exposure_attributes_value(attributes)
    return found


@transaction.atomic
def exposures_record_bulk(*, items: Iterable[BulkExposure]) -> int:
    """Store the exposures among ``items`` (answers with ``record``), in input order as
    successive calls would; returns how many new rows were written."""
    written = 0
    prepared: dict[tuple[tuple[str, Any], ...], Any] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(items, EXPOSURE_ROWS_PER_STATEMENT):
            first: dict[tuple[int, int, str], tuple[tuple, BulkExposure]] = {}
            repeats: list[tuple[tuple[int, int, str], BulkExposure]] = []
            for item in chunk:
                a = item.assignment
                if not a.record or a.experiment is None or a.variant is None:
                    continue
                key = (a.experiment.id, a.experiment.phase, item.unit_id)
                if key in first:
                    repeats.append((key, item))
                    continue
                first[key] = (
                    exposure_row(
                        key,
                        a,
                        stored_attributes=_stored_attributes(item.attributes, prepared),
                        when=exposure_time_value(item.at),
                    ),
                    item,
                )
            if not first:
                continue
            # The same fixed order as the per-call path keeps concurrent writers apart.
            ordered = sorted(first)
            inserted = exposure_rows_insert(cursor, [first[key][0] for key in ordered])
            written += len(inserted)
            existing = [(key, first[key][1]) for key in ordered if key not in inserted]
            for key, item in [*existing, *repeats]:
                exposures_flag(cursor, key[2], [item.assignment])
    return written


def events_ingest_bulk(
    *,
    items: Iterable[dict[str, Any]],
    received_at: datetime | None = None,
    sent_at: datetime | None = None,
    chunk_size: int = EVENTS_PER_CHUNK,
) -> IngestResult:
    """Validate and store ``items`` (event objects as the API takes them), any number of them,
    as if received at ``received_at`` (default now) in batches sent at ``sent_at``. Counts as
    ``events_ingest`` does: each item is stored, a duplicate (its ``event_id`` is stored or
    came earlier), or rejected with (its index in ``items``, the reason)."""
    received_at = received_at or timezone.now()
    window = TimeWindow.for_batch(received_at=received_at, sent_at=sent_at)
    accepted = duplicates = 0
    rejected: list[tuple[int, str]] = []
    offset = 0
    for chunk in _chunks(items, chunk_size):
        rows, refused, repeated = events_validate(chunk, window)
        stored = events_store(rows=rows, received_at=received_at) if rows else 0
        accepted += stored
        duplicates += repeated + len(rows) - stored
        rejected.extend((offset + index, reason) for index, reason in refused)
        offset += len(chunk)
    return IngestResult(accepted=accepted, duplicates=duplicates, rejected=rejected)


def exposures_bulk_items(
    unit_ids: Sequence[str],
    attributes: Sequence[dict[str, Any]],
    answers: Sequence[Assignment],
    times: Sequence[datetime],
) -> Iterator[BulkExposure]:
    """``BulkExposure`` items from parallel sequences."""
    for unit_id, attrs, answer, at in zip(unit_ids, attributes, answers, times, strict=True):
        yield BulkExposure(unit_id, attrs, answer, at)
