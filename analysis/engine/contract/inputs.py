"""Typed snapshot inputs: what the aggregation returns and ``ResultSnapshot.inputs`` stores.

The aggregation (``analysis.aggregation.experiment_inputs`` and the Spark engine) builds a
``SnapshotInputs``; the snapshot stores its ``to_dict()`` and a recompute reads it back with
``from_dict`` (``analysis.engine.contract.model``). The per-arm sums are the statistics
engine's input classes (``ProportionStats``, ``MeanStats``, ``RatioStats``), stored as their
own ``to_dict()`` with a ``kind`` tag and validated on the way in. Keys a reader does not know
are ignored, so inputs stay readable when the aggregation adds fields. ``Plan`` is the analysis
plan stored with every snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from analysis.engine.stats import ArmStats, stats_from_dict
from analysis.engine.stats.inputs import MeanStats, ProportionStats, RatioStats

from .model import CONTRACT, Contract, IsoTime, Number, dataclass, or_default


def _arm_stats(value: Any) -> ArmStats:
    if isinstance(value, ProportionStats | MeanStats | RatioStats):
        return value
    return stats_from_dict(dict(value))


def _stats_schema() -> dict[str, Any]:
    """The JSON Schema of one arm's statistics: one object per kind, from the statistics
    engine's own fields."""
    options = []
    for cls in (ProportionStats, MeanStats, RatioStats):
        schema = TypeAdapter(cls).json_schema(mode="serialization")
        schema.pop("title", None)
        schema["properties"] = {"kind": {"const": cls.kind}, **schema["properties"]}
        schema["required"] = ["kind", *schema.get("required", [])]
        options.append(schema)
    return {"oneOf": options}


# One arm's sufficient statistics: the statistics engine's class in Python, its ``to_dict()``
# (with the ``kind`` tag; shifts of 0 left out) in the JSON.
Stats = Annotated[
    ArmStats,
    PlainValidator(_arm_stats),
    PlainSerializer(lambda s: s.to_dict(), return_type=dict[str, Any]),
    WithJsonSchema(_stats_schema()),
]
# An object that may be stored as null: read as its defaults.
OrEmpty = or_default({})


@dataclass(frozen=True, config=CONTRACT)
class Plan(Contract):
    """The analysis plan in force when the snapshot was computed."""

    alpha: float
    method: Annotated[str, BeforeValidator(lambda v: v or "frequentist")] = "frequentist"
    correction: str | None = None
    cuped: bool = False
    mde: Number = None
    planned_sample_size: int | None = None
    planned_duration_days: int | None = None
    # The guardrail circuit breaker (analysis.engine.breaker_rule): on or off, and the
    # relative harm each guardrail tolerates (metric key -> threshold; absent means 0).
    guardrail_auto_pause: Annotated[
        bool, Field(description="Present (true) only when the guardrail breaker is on.")
    ] = False
    harm_thresholds: Annotated[
        dict[str, float],
        OrEmpty,
        Field(description="Guardrail metric key -> relative harm tolerated (absent: 0)."),
    ] = Field(default_factory=dict)
    segment_correction: Annotated[
        str | None,
        Field(
            description="The correction of segment p-values across one dimension's segments "
            "(`holm` or `bh`); absent: none."
        ),
    ] = None

    # The breaker's keys only when it is on, and the segment correction only when there is
    # one, so plans stored before they existed read and serve unchanged.
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = (
        "guardrail_auto_pause",
        "harm_thresholds",
        "segment_correction",
    )

    def omitted(self) -> Iterable[str]:
        breaker = () if self.guardrail_auto_pause else ("guardrail_auto_pause", "harm_thresholds")
        segment = () if self.segment_correction_method != "none" else ("segment_correction",)
        return (*breaker, *segment)

    @property
    def segment_correction_method(self) -> str:
        """``none``, ``holm`` or ``bh`` for segment p-values (none for Bayesian plans)."""
        if self.method == "bayesian":
            return "none"
        return self.segment_correction or "none"

    @property
    def correction_method(self) -> str:
        """``none``, ``holm`` or ``bh`` (a missing correction means none)."""
        return self.correction or "none"


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class VariantSpec(Contract):
    key: str
    name: str
    weight: float = 1.0
    is_control: bool

    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {"name": "key"}


@dataclass(frozen=True, config=CONTRACT)
class Excluded(Contract):
    """Units left out of the analysis: forced by a QA override, or seeing several variants.

    ``total`` counts each unit once (a unit can be both). Inputs stored before ``total``
    existed counted multiple-variant units without the forced ones, so the two were disjoint
    and their sum is read as the total.
    """

    forced: int = 0
    multiple_variants: int = 0
    total: int = 0

    @model_validator(mode="before")
    @classmethod
    def _total_from_parts(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("total") is None:
            parts = int(data.get("forced") or 0) + int(data.get("multiple_variants") or 0)
            return {**data, "total": parts}
        return data


# ``Excluded`` as read inside other objects: null reads as zeros, a missing total as the sum.
ExcludedIn = Annotated[Excluded, OrEmpty]


@dataclass(frozen=True, config=CONTRACT)
class Freshness(Contract):
    """The newest exposure and event counted (ISO 8601 strings), None when there was none."""

    last_exposure_at: IsoTime | None = None
    last_event_at: IsoTime | None = None


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class PointInputs(Contract):
    """One point of a curve metric (``retention_curve``, ``value_curve``): its name (``W1``,
    ``D7``, ``M1``), its days since exposure ``[day_from, day_to)`` and its statistics per
    variant over the units exposed long enough for it (the others are ``immature_units``)."""

    point: str
    day_from: int
    day_to: int
    stats: dict[str, Stats]
    immature_units: Annotated[dict[str, int], OrEmpty] = Field(default_factory=dict)


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class MetricInputs(Contract):
    """One metric's definition as analysed and its sufficient statistics per variant."""

    metric: str
    name: str
    type: str
    role: str
    higher_is_better: bool = True
    window_hours: int | None = None
    retention_day: int | None = None
    winsorize_percentile: float | None = None
    cuped: bool = False
    caps: Annotated[dict[str, Number], OrEmpty] = Field(default_factory=dict)
    stats: dict[str, Stats]
    immature_units: Annotated[dict[str, int], OrEmpty] = Field(default_factory=dict)
    # ``values_out_of_range`` when some units' values reached the accepted range's limit (the
    # aggregation then stores ``out_of_range_units``); ``ok`` otherwise, and then neither key
    # is stored.
    status: Annotated[str, BeforeValidator(lambda v: v or "ok")] = "ok"
    out_of_range_units: Annotated[int, BeforeValidator(lambda v: v or 0)] = 0
    # A curve metric's points, the headline first: ``stats`` and ``immature_units`` above are
    # the headline point's (``analysis.aggregation.curves``). Left out for other metrics.
    points: Annotated[
        tuple[PointInputs, ...],
        Field(description="Curve metrics only: every point, the headline (`stats`) first."),
    ] = ()

    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {"name": "metric"}
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("status", "out_of_range_units", "points")

    def omitted(self) -> Iterable[str]:
        status = ("status", "out_of_range_units") if self.status == "ok" else ()
        return (*status, "points") if not self.points else status

    @property
    def winsorized_at(self) -> float | None:
        """The cap on the per-unit value (or numerator), when the metric is winsorized."""
        return self.caps.get("value", self.caps.get("numerator"))


@dataclass(frozen=True, config=CONTRACT)
class SegmentInputs(Contract):
    """The primary metric's statistics for the units with ``attribute == value``."""

    attribute: str
    value: str
    metric: str
    units: dict[str, int]
    stats: dict[str, Stats]


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class SnapshotInputs(Contract):
    """Everything a snapshot's results are computed from (besides the plan)."""

    experiment: str
    phase: int
    as_of: IsoTime
    status: str = ""
    started_at: IsoTime | None = None
    variants: tuple[VariantSpec, ...]
    units: dict[str, int]
    excluded: ExcludedIn = Excluded()
    events: int = 0
    freshness: Annotated[Freshness, OrEmpty] = Freshness()
    metrics: tuple[MetricInputs, ...]
    segments: tuple[SegmentInputs, ...] = ()
    units_by_day: Annotated[
        dict[str, dict[str, int]],
        OrEmpty,
        Field(
            description="Analysed units per variant by the UTC day of their first exposure "
            "(ISO date -> variant key -> units), for the per-day sample ratio check; empty in "
            "inputs stored before it was counted."
        ),
    ] = Field(default_factory=dict)

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
