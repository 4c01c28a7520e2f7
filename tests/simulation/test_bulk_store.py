"""The bulk path stores exactly what the per-call path stores for the same simulated users:
the same exposures (first variant and time, flags for a unit seen again with another variant or
forced), the same deduplicated events, the same rejections and counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from django.utils import timezone

from analysis.simulation import SCENARIOS
from analysis.simulation.bulk import (
    SimChunk,
    simulate_bulk,
    simulate_chunk,
    store_bulk,
    store_per_call,
)
from assignment.models import Event, Exposure
from assignment.services.exposures import exposure_cache_clear

from .helpers import demo_experiment

pytestmark = pytest.mark.django_db

USERS = 3000


def _chunk(experiment, now: dt.datetime) -> SimChunk:  # noqa: ANN001
    chunk = simulate_chunk(
        experiment=experiment,
        scenario=SCENARIOS[experiment.key],
        seed=21,
        first_index=0,
        users=USERS,
        arrive_from=now - dt.timedelta(days=20),
        arrive_to=now,
        now=now,
    )
    # A unit seen again with the other variant, forced (a QA override): flagged, not moved.
    exposed = [i for i, a in enumerate(chunk.answers) if a.record]
    i = exposed[0]
    answer = chunk.answers[i]
    other = next(v for v in answer.experiment.variants if v.key != answer.variant.key)
    again = dataclasses.replace(answer, variant=other, reason="forced")
    chunk.unit_ids.append(chunk.unit_ids[i])
    chunk.attributes.append({**chunk.attributes[i], "platform": "android"})
    chunk.answers.append(again)
    chunk.arrivals.append(now)
    # Items the rules refuse or correct: too old, too far ahead, a bad name, a field missing.
    base = {"unit_id": chunk.unit_ids[i], "event": "purchase", "value": 5.0}
    stamp = (now - dt.timedelta(days=91)).isoformat()
    chunk.items += [
        {**base, "event_id": "old", "timestamp": stamp},
        {**base, "event_id": "ahead", "timestamp": (now + dt.timedelta(days=2)).isoformat()},
        {**base, "event_id": "bad-name", "event": "no spaces", "timestamp": now.isoformat()},
        {"event_id": "no-unit", "event": "purchase", "timestamp": now.isoformat()},
        {
            **base,
            "event_id": "a-day-ahead",
            "timestamp": (now + dt.timedelta(hours=23)).isoformat(),
        },
    ]
    return chunk


def _head(chunk: SimChunk) -> SimChunk:
    """The first users and events: stored before the whole chunk, so both paths meet rows
    that exist already."""
    n = 300
    return dataclasses.replace(
        chunk,
        unit_ids=chunk.unit_ids[:n],
        attributes=chunk.attributes[:n],
        answers=chunk.answers[:n],
        arrivals=chunk.arrivals[:n],
        items=chunk.items[: len(chunk.items) // 3],
    )


def _hashable(row: tuple) -> tuple:
    return tuple(json.dumps(x, sort_keys=True) if isinstance(x, dict) else x for x in row)


def _columns(model) -> list[str]:  # noqa: ANN001
    """Every stored column but the row id, in the model's order: a column added later is
    compared too."""
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def _stored() -> tuple[set, set]:
    exposures = set(_hashable(row) for row in Exposure.objects.values_list(*_columns(Exposure)))
    events = set(_hashable(row) for row in Event.objects.values_list(*_columns(Event)))
    return exposures, events


def _outcome(store, chunk: SimChunk, received_at: dt.datetime) -> tuple:  # noqa: ANN001
    store(_head(chunk), received_at=received_at)
    _, result = store(chunk, received_at=received_at)
    return result.accepted, result.duplicates, result.rejected


def test_bulk_store__same_users_as_per_call__same_rows_and_counts():
    experiment = demo_experiment("new-user-coupon")
    now = timezone.now()
    received_at = now + dt.timedelta(minutes=1)
    chunk = _chunk(experiment, now)

    exposure_cache_clear()
    per_call = _outcome(store_per_call, chunk, received_at)
    per_call_rows = _stored()
    Exposure.objects.all().delete()
    Event.objects.all().delete()
    exposure_cache_clear()
    bulk = _outcome(store_bulk, chunk, received_at)
    bulk_rows = _stored()

    assert bulk == per_call
    accepted, duplicates, rejected = bulk
    assert duplicates > len(_head(chunk).items) and accepted > 100  # the head again, retries
    assert [reason.split()[0] for _, reason in rejected] == ["timestamp"] * 2 + ["event", "missing"]
    assert bulk_rows[0] == per_call_rows[0]
    assert bulk_rows[1] == per_call_rows[1]
    exposures, events = bulk_rows
    assert sum(1 for row in exposures if row[5] and row[6]) == 1  # forced, multiple variants
    assert any(row[0] == "a-day-ahead" for row in events)  # within the 24 hours ahead
    units = {row[2] for row in exposures}
    assert any(item["unit_id"] not in units for item in chunk.items)  # never exposed, stored


def test_simulate_bulk__run_twice__nothing_stored_twice_and_counts_add_up():
    experiment = demo_experiment("checkout-aa")
    now = timezone.now()
    kwargs = {
        "experiment": experiment,
        "scenario": SCENARIOS["checkout-aa"],
        "users": 1200,
        "days": 10,
        "seed": 4,
        "now": now,
        "chunk_users": 500,
    }
    first = simulate_bulk(**kwargs)
    counts = (Exposure.objects.count(), Event.objects.count())
    assert counts == (1200, first.accepted)
    assert first.events_sent == first.accepted + first.duplicates + first.rejected
    assert first.duplicates == first.retried > 0
    again = simulate_bulk(**kwargs)
    assert (Exposure.objects.count(), Event.objects.count()) == counts
    assert again.accepted == 0 and again.duplicates == again.events_sent
