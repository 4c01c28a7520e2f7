"""The SDK payload: Verdict's experiments in the features format GrowthBook's SDKs load.

``GET /api/v1/sdk/<client_key>/features`` serves ``{"features": {...}, "dateUpdated": ...}``.
Each running, paused, stopped or concluded experiment is one feature keyed by the experiment
key, whose rules reproduce ``assignment.services.assign.assign_experiment`` exactly:

- ``defaultValue``: the control's payload (running, paused); a stopped or concluded
  experiment's shipped winner's payload (else the control's);
- QA overrides: ``force`` rules first, one per variant, with a condition on the unit id
  (``user_id``) and then on the randomization attribute, as the assign API matches them;
- a running experiment: one experiment rule with ``key``, ``variations``, normalized
  ``weights``, ``coverage``, ``hashAttribute``, ``hashVersion`` 2, ``seed`` (the salt),
  ``condition`` (the targeting as stored), ``namespace`` (``[layer, start, end]``), ``meta`` and
  ``phase``. Paused and stopped experiments have no experiment rule.

The body is built once per definitions snapshot (``assignment.definitions``), so it changes
exactly when the assign path reloads, and is kept as ready-to-send bytes with a content ETag.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Max

from assignment.definitions import Definitions, ExperimentDef, VariantDef, definitions_get
from core.caches import snapshot_register
from experiments.models import AuditLogEntry, Experiment, ExperimentStatus, Variant

__all__ = ["SdkPayload", "sdk_feature", "sdk_payload_clear", "sdk_payload_get"]

S = ExperimentStatus
SERVED = (S.RUNNING, S.PAUSED, S.STOPPED, S.CONCLUDED)
USER_ID = "user_id"


@dataclass(frozen=True, slots=True)
class SdkPayload:
    """A built payload: the JSON body as bytes, its strong ETag and the definitions version."""

    body: bytes
    etag: str
    version: int
    date_updated: str


def _force_rules(defn: ExperimentDef) -> list[dict[str, Any]]:
    """Force rules in the order the assign API matches overrides: unit id, then bucket id."""
    by_variant: dict[int, list[str]] = {}
    variants: dict[int, VariantDef] = {}
    for unit_id, variant in sorted(defn.overrides.items()):
        by_variant.setdefault(variant.id, []).append(unit_id)
        variants[variant.id] = variant
    attributes = [USER_ID]
    if defn.unit_attribute != USER_ID:
        attributes.append(defn.unit_attribute)
    rules = []
    for attribute in attributes:
        for variant_id, units in by_variant.items():
            rules.append(
                {
                    "id": f"override-{attribute}-{variants[variant_id].key}",
                    "condition": {attribute: {"$in": units}},
                    "force": variants[variant_id].payload,
                }
            )
    return rules


def _weights(defn: ExperimentDef, stored: dict[int, float]) -> list[float]:
    """Normalized weights, computed as the definitions compute them (``weight / total``), so an
    SDK rebuilding the ranges from them gets the very same floating-point boundaries."""
    raw = [stored.get(v.id) for v in defn.variants]
    if all(w is not None for w in raw):
        total = sum(raw)  # type: ignore[arg-type]
        if 0 < total < math.inf:
            return [w / total for w in raw]  # type: ignore[operator]
    # Variants changed since the snapshot, or weights stored before they were bounded whose sum
    # overflows (assign then splits equally): widths of the ranges (exact at full coverage).
    starts = [start for start, _ in defn.ranges] + [1.0]
    return [starts[i + 1] - starts[i] for i in range(len(defn.variants))]


def _experiment_rule(
    defn: ExperimentDef, stored: dict[int, float], names: dict[int, str]
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": f"experiment-{defn.key}",
        "key": defn.key,
        "variations": [v.payload for v in defn.variants],
        "weights": _weights(defn, stored),
        "coverage": defn.coverage,
        "hashAttribute": defn.unit_attribute,
        "hashVersion": 2,
        "seed": defn.salt,
        "meta": [{"key": v.key, "name": names.get(v.id, v.key)} for v in defn.variants],
        "phase": str(defn.phase),
    }
    if defn.targeting:
        rule["condition"] = defn.targeting
    if defn.layer_key is not None:
        if defn.layer_start is None or defn.layer_end is None:
            # A layer without a slice takes nobody, as in the assign API.
            rule["namespace"] = [defn.layer_key, 0, 0]
        else:
            rule["namespace"] = [defn.layer_key, defn.layer_start, defn.layer_end]
    return rule


def sdk_feature(
    defn: ExperimentDef,
    weights: dict[int, float] | None = None,
    names: dict[int, str] | None = None,
) -> dict[str, Any] | None:
    """One experiment as a GrowthBook feature, or None for statuses that are not served."""
    if defn.status not in SERVED:
        return None
    stopped = defn.status in (S.STOPPED, S.CONCLUDED)
    default = defn.served_when_stopped if stopped else defn.control
    rules = _force_rules(defn) if defn.overrides else []
    if defn.status == S.RUNNING:
        rules.append(_experiment_rule(defn, weights or {}, names or {}))
    feature: dict[str, Any] = {"defaultValue": default.payload if default is not None else None}
    if rules:
        feature["rules"] = rules
    return feature


def _date_updated() -> str:
    """The latest change to any experiment or its overrides (the audit log records both)."""
    latest = [
        Experiment.objects.aggregate(at=Max("updated_at"))["at"],
        AuditLogEntry.objects.aggregate(at=Max("at"))["at"],
    ]
    known = [at for at in latest if at is not None]
    when = max(known) if known else datetime(2000, 1, 1, tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _build(definitions: Definitions) -> SdkPayload:
    ids = [d.id for d in definitions.by_key.values() if d.status == S.RUNNING]
    rows = Variant.objects.filter(experiment_id__in=ids).values_list("id", "weight", "name")
    weights = {vid: weight for vid, weight, _ in rows}
    names = {vid: name for vid, _, name in rows}
    features: dict[str, Any] = {}
    for key in sorted(definitions.by_key):
        feature = sdk_feature(definitions.by_key[key], weights, names)
        if feature is not None:
            features[key] = feature
    date_updated = _date_updated()
    body = json.dumps(
        {"features": features, "dateUpdated": date_updated},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return SdkPayload(body=body, etag=etag, version=definitions.version, date_updated=date_updated)


_lock = threading.Lock()
_cached: tuple[Definitions, SdkPayload] | None = None


def sdk_payload_get() -> SdkPayload:
    """The payload for the current definitions, built once per definitions snapshot."""
    global _cached
    definitions = definitions_get()
    cached = _cached
    if cached is not None and cached[0] is definitions:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] is definitions:
            return _cached[1]
        payload = _build(definitions)
        _cached = (definitions, payload)
        return payload


def sdk_payload_clear() -> None:
    """Forget the built payload (the next call builds it again)."""
    global _cached
    with _lock:
        _cached = None


snapshot_register(
    "sdk payload",
    holds="the SDK payload body built from the current definitions snapshot",
    clear=sdk_payload_clear,
    present=lambda: _cached is not None,
)
