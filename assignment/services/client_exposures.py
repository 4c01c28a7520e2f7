"""Exposures that client SDKs observed: ``POST /api/v1/exposures``.

A GrowthBook SDK evaluating Verdict's payload locally calls its tracking callback when a unit
enters an experiment; the app forwards ``{unit_id, experiment, variant, timestamp, attributes}``
here in batches. Each item is checked against the assign path itself: the experiment must be
running and the unit, with those attributes, must hash (or be forced) to that variant. A
mismatch signals a broken or stale client, so the item is rejected with that reason and counted
on the experiment (``ClientExposureRejection``, shown with its health).

Accepted items are stored exactly like server-side assignment (``exposures_record``):
idempotent per experiment, phase and unit, so a resent exposure is a duplicate, never a second
row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assignment.definitions import definitions_get
from assignment.models import ClientExposureRejection, Exposure
from core.errors import ValidationFailed
from experiments.models import Experiment, ExperimentStatus

from .assign import assign_experiment
from .assign_input import assign_request_parse
from .event_validation import parse_aware_datetime
from .exposures import exposures_record

__all__ = [
    "MAX_BATCH_EXPOSURES",
    "ExposureIngestResult",
    "client_exposure_rejections",
    "client_exposures_ingest",
]

MAX_BATCH_EXPOSURES = 1000
MAX_AGE = timedelta(days=90)
MAX_FUTURE = timedelta(hours=24)
NOT_RUNNING = "not_running"
VARIANT_MISMATCH = "variant_mismatch"
FIELDS = ("unit_id", "experiment", "variant", "timestamp", "attributes")


@dataclass(slots=True)
class ExposureIngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _batch(payload: Any) -> list[Any]:
    if not isinstance(payload, dict) or "exposures" not in payload:
        raise ValidationFailed(
            {"exposures": ['Send {"exposures": [...]} with 1 to 1000 exposures.']}
        )
    items = payload["exposures"]
    if not isinstance(items, list) or not items:
        raise ValidationFailed({"exposures": ["Must be a non-empty array of exposures."]})
    if len(items) > MAX_BATCH_EXPOSURES:
        raise ValidationFailed(
            {"exposures": [f"At most {MAX_BATCH_EXPOSURES} exposures per batch ({len(items)})."]}
        )
    return items


def _when(raw: Any, received_at: datetime) -> datetime:
    if raw is None:
        return received_at
    when = parse_aware_datetime(raw)
    if when is None:
        raise _Rejected(
            "timestamp must be an ISO-8601 date-time with a time zone, e.g. 2024-05-01T12:00:00Z"
        )
    if when < received_at - MAX_AGE:
        raise _Rejected("timestamp is more than 90 days old")
    if when > received_at + MAX_FUTURE:
        raise _Rejected("timestamp is more than 24 hours in the future")
    # A client clock slightly ahead never records an exposure in the future.
    return min(when, received_at)


def _check(item: Any, received_at: datetime) -> tuple[str, dict[str, Any], Any, datetime]:
    """Validate one item and check it against the assign path; return what to record."""
    if not isinstance(item, dict):
        raise _Rejected("exposure must be a JSON object")
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise _Rejected(f"unknown field(s): {', '.join(unknown)}")
    missing = [f for f in ("unit_id", "experiment", "variant") if item.get(f) in (None, "")]
    if missing:
        raise _Rejected(f"missing required field(s): {', '.join(missing)}")
    try:
        parsed = assign_request_parse(
            {"unit_id": item["unit_id"], "attributes": item.get("attributes")}
        )
    except ValidationFailed as exc:
        problems = [f"{name}: {' '.join(msgs)}" for name, msgs in exc.errors.items()]
        raise _Rejected("; ".join(problems)) from None
    key, variant = item["experiment"], item["variant"]
    if not isinstance(key, str) or not isinstance(variant, str):
        raise _Rejected("experiment and variant must be strings (their keys)")
    when = _when(item.get("timestamp"), received_at)
    defn = definitions_get().by_key.get(key)
    if defn is None:
        raise _Rejected(f'unknown experiment "{key}"')
    if defn.status != ExperimentStatus.RUNNING:
        raise _Rejected(
            f"{NOT_RUNNING}: experiment {key} is {defn.status}; the client's payload is stale",
            NOT_RUNNING,
        )
    answer = assign_experiment(defn, parsed.unit_id, parsed.attributes)
    if not answer.record or answer.variant is None:
        raise _Rejected(
            f"{VARIANT_MISMATCH}: this unit is not in {key} ({answer.reason}), "
            f"not in variant {variant}",
            VARIANT_MISMATCH,
        )
    if answer.variant.key != variant:
        raise _Rejected(
            f"{VARIANT_MISMATCH}: this unit hashes to variant {answer.variant.key}, not {variant}",
            VARIANT_MISMATCH,
        )
    return parsed.unit_id, parsed.attributes, answer, when


@transaction.atomic
def _count_rejections(counts: Counter[tuple[int, int, str]], at: datetime) -> None:
    for (experiment_id, phase, reason), n in sorted(counts.items()):
        updated = ClientExposureRejection.objects.filter(
            experiment_id=experiment_id, phase=phase, reason=reason
        ).update(count=F("count") + n, last_at=at)
        if not updated:
            row, created = ClientExposureRejection.objects.get_or_create(
                experiment_id=experiment_id,
                phase=phase,
                reason=reason,
                defaults={"count": n, "last_at": at},
            )
            if not created:
                ClientExposureRejection.objects.filter(pk=row.pk).update(
                    count=F("count") + n, last_at=at
                )


def client_exposures_ingest(
    *, payload: Any, received_at: datetime | None = None
) -> ExposureIngestResult:
    """Check and store a batch of client-observed exposures; rejections are per item."""
    items = _batch(payload)
    now = received_at or timezone.now()
    result = ExposureIngestResult()
    accepted: list[tuple[str, dict[str, Any], Any, datetime]] = []
    counts: Counter[tuple[int, int, str]] = Counter()
    definitions = definitions_get()
    for index, item in enumerate(items):
        try:
            accepted.append(_check(item, now))
        except _Rejected as exc:
            result.rejected.append((index, exc.reason))
            if exc.code is not None:
                defn = definitions.by_key.get(item["experiment"])
                if defn is not None:
                    counts[(defn.id, defn.phase, exc.code)] += 1
    if counts:
        _count_rejections(counts, now)
    if not accepted:
        return result
    stored = set(
        Exposure.objects.filter(
            experiment_id__in={a.experiment.id for _, _, a, _ in accepted},
            unit_id__in={unit for unit, _, _, _ in accepted},
        ).values_list("experiment_id", "phase", "unit_id")
    )
    for unit_id, attributes, answer, when in accepted:
        key = (answer.experiment.id, answer.experiment.phase, unit_id)
        if key in stored:
            result.duplicates += 1
            continue
        stored.add(key)
        exposures_record(unit_id=unit_id, attributes=attributes, assignments=[answer], now=when)
        result.accepted += 1
    return result


def client_exposure_rejections(*, experiment: Experiment) -> dict[str, int]:
    """Client exposures rejected in the experiment's current phase, by reason."""
    rows = ClientExposureRejection.objects.filter(
        experiment=experiment, phase=experiment.phase
    ).values_list("reason", "count")
    return dict(rows)
