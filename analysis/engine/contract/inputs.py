"""Typed snapshot inputs: what the aggregation stores in ``ResultSnapshot.inputs``, parsed.

``SnapshotInputs.from_dict`` reads the JSON the aggregation writes (see
``analysis.aggregation.experiment_inputs``); the per-arm sums become the statistics engine's
input classes (``ProportionStats``, ``MeanStats``, ``RatioStats``), validated on the way in.
Keys a reader does not know are ignored, so inputs stay readable when the aggregation adds
fields. ``Plan`` is the analysis plan stored with every snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.engine.stats import ArmStats, stats_from_dict

from .convert import counts, num


@dataclass(frozen=True)
class Plan:
    """The analysis plan in force when the snapshot was computed."""

    alpha: float
    method: str
    correction: str | None
    cuped: bool
    mde: float | None
    planned_sample_size: int | None
    planned_duration_days: float | None
    # The guardrail circuit breaker (analysis.engine.breaker_rule): on or off, and the
    # relative harm each guardrail tolerates (metric key -> threshold; absent means 0).
    guardrail_auto_pause: bool = False
    harm_thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def correction_method(self) -> str:
        """``none``, ``holm`` or ``bh`` (a missing correction means none)."""
        return self.correction or "none"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            alpha=float(data["alpha"]),
            method=str(data.get("method") or "frequentist"),
            correction=data.get("correction"),
            cuped=bool(data.get("cuped", False)),
            mde=data.get("mde"),
            planned_sample_size=data.get("planned_sample_size"),
            planned_duration_days=data.get("planned_duration_days"),
            guardrail_auto_pause=bool(data.get("guardrail_auto_pause", False)),
            harm_thresholds={
                str(k): float(v) for k, v in (data.get("harm_thresholds") or {}).items()
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan as stored; the breaker's keys only when it is on, so plans stored before
        it existed read and serve unchanged."""
        breaker: dict[str, Any] = {}
        if self.guardrail_auto_pause:
            breaker = {
                "guardrail_auto_pause": True,
                "harm_thresholds": dict(self.harm_thresholds),
            }
        return {
            "alpha": self.alpha,
            "method": self.method,
            "correction": self.correction,
            "cuped": self.cuped,
            "mde": self.mde,
            "planned_sample_size": self.planned_sample_size,
            "planned_duration_days": self.planned_duration_days,
            **breaker,
        }


@dataclass(frozen=True)
class VariantSpec:
    key: str
    name: str
    weight: float
    is_control: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantSpec:
        return cls(
            key=str(data["key"]),
            name=str(data.get("name", data["key"])),
            weight=float(data.get("weight", 1.0)),
            is_control=bool(data["is_control"]),
        )


@dataclass(frozen=True)
class Excluded:
    """Units left out of the analysis: forced by a QA override, or seeing several variants.

    ``total`` counts each unit once (a unit can be both).
    """

    forced: int
    multiple_variants: int
    total: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Excluded:
        data = data or {}
        forced = int(data.get("forced", 0))
        multiple = int(data.get("multiple_variants", 0))
        # Inputs stored before ``total`` existed counted multiple-variant units without the
        # forced ones, so the two were disjoint and their sum is the total.
        total = int(data["total"]) if data.get("total") is not None else forced + multiple
        return cls(forced=forced, multiple_variants=multiple, total=total)

    def to_dict(self) -> dict[str, int]:
        return {
            "forced": self.forced,
            "multiple_variants": self.multiple_variants,
            "total": self.total,
        }


@dataclass(frozen=True)
class Freshness:
    """The newest exposure and event counted (ISO 8601 strings), None when there was none."""

    last_exposure_at: str | None
    last_event_at: str | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Freshness:
        data = data or {}
        return cls(
            last_exposure_at=data.get("last_exposure_at"), last_event_at=data.get("last_event_at")
        )

    def to_dict(self) -> dict[str, str | None]:
        return {"last_exposure_at": self.last_exposure_at, "last_event_at": self.last_event_at}


def _stats(data: Mapping[str, Any]) -> dict[str, ArmStats]:
    return {str(k): stats_from_dict(v) for k, v in data.items()}


@dataclass(frozen=True)
class MetricInputs:
    """One metric's definition as analysed and its sufficient statistics per variant."""

    metric: str
    name: str
    type: str
    role: str
    higher_is_better: bool
    cuped: bool
    caps: dict[str, float | None]
    stats: dict[str, ArmStats]
    immature_units: dict[str, int]
    window_hours: int | None = None
    retention_day: int | None = None
    winsorize_percentile: float | None = None
    # ``values_out_of_range`` when some units' values reached the accepted range's limit (the
    # aggregation then stores ``out_of_range_units``); ``ok`` otherwise.
    status: str = "ok"
    out_of_range_units: int = 0

    @property
    def winsorized_at(self) -> float | None:
        """The cap on the per-unit value (or numerator), when the metric is winsorized."""
        return self.caps.get("value", self.caps.get("numerator"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricInputs:
        return cls(
            metric=str(data["metric"]),
            name=str(data.get("name", data["metric"])),
            type=str(data["type"]),
            role=str(data["role"]),
            higher_is_better=bool(data.get("higher_is_better", True)),
            cuped=bool(data.get("cuped", False)),
            caps={str(k): num(v) for k, v in (data.get("caps") or {}).items()},
            stats=_stats(data["stats"]),
            immature_units=counts(data.get("immature_units")),
            window_hours=data.get("window_hours"),
            retention_day=data.get("retention_day"),
            winsorize_percentile=data.get("winsorize_percentile"),
            status=str(data.get("status") or "ok"),
            out_of_range_units=int(data.get("out_of_range_units") or 0),
        )


@dataclass(frozen=True)
class SegmentInputs:
    """The primary metric's statistics for the units with ``attribute == value``."""

    attribute: str
    value: str
    metric: str
    units: dict[str, int]
    stats: dict[str, ArmStats]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentInputs:
        return cls(
            attribute=str(data["attribute"]),
            value=str(data["value"]),
            metric=str(data["metric"]),
            units=counts(data["units"]),
            stats=_stats(data["stats"]),
        )


@dataclass(frozen=True)
class SnapshotInputs:
    """Everything a snapshot's results are computed from (besides the plan)."""

    experiment: str
    phase: int
    as_of: str
    status: str
    started_at: str | None
    variants: tuple[VariantSpec, ...]
    units: dict[str, int]
    excluded: Excluded
    events: int
    freshness: Freshness
    metrics: tuple[MetricInputs, ...]
    segments: tuple[SegmentInputs, ...]

    @property
    def control(self) -> VariantSpec:
        return next(v for v in self.variants if v.is_control)

    @property
    def total_units(self) -> int:
        return sum(self.units.values())

    @property
    def as_of_datetime(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.as_of)

    @property
    def started_at_datetime(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.started_at) if self.started_at else None

    def metric(self, key: str) -> MetricInputs:
        return next(m for m in self.metrics if m.metric == key)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotInputs:
        return cls(
            experiment=str(data["experiment"]),
            phase=int(data["phase"]),
            as_of=str(data["as_of"]),
            status=str(data.get("status", "")),
            started_at=data.get("started_at"),
            variants=tuple(VariantSpec.from_dict(v) for v in data["variants"]),
            units=counts(data["units"]),
            excluded=Excluded.from_dict(data.get("excluded")),
            events=int(data.get("events", 0)),
            freshness=Freshness.from_dict(data.get("freshness")),
            metrics=tuple(MetricInputs.from_dict(m) for m in data["metrics"]),
            segments=tuple(SegmentInputs.from_dict(s) for s in data.get("segments", [])),
        )
