"""Typed results of a snapshot: what ``ResultSnapshot.results`` stores and the API serves.

Every class is a frozen dataclass with ``to_dict()`` (the stored and served JSON: plain
numbers, never NaN, intervals as two-element lists) and ``from_dict()`` (its inverse, for
the current schema version; older stored results go through ``results_from_stored``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .convert import counts, floats, num, pair, pair_out
from .inputs import Excluded, Freshness, Plan

RESULTS_SCHEMA_VERSION = 2

# Values of ``VariantResult.outcome``: decided once, after the multiple-testing correction
# (``analysis.services.outcomes.variant_outcome``).
BETTER = "better"
WORSE = "worse"
NOT_SIGNIFICANT = "not_significant"
NOT_ENOUGH_DATA = "not_enough_data"
OUTCOMES = (BETTER, WORSE, NOT_SIGNIFICANT, NOT_ENOUGH_DATA)

# Values of ``Decision.recommendation``.
SHIP, KEEP_CONTROL, KEEP_RUNNING, INCONCLUSIVE = (
    "ship",
    "keep_control",
    "keep_running",
    "inconclusive",
)
RECOMMENDATIONS = (SHIP, KEEP_CONTROL, KEEP_RUNNING, INCONCLUSIVE)

# Values of ``MetricResult.role``.
ROLES = ("primary", "secondary", "guardrail")


@dataclass(frozen=True)
class VariantResult:
    """One variant of one metric (or segment). The control has only the first five fields;
    the comparison fields describe treatment versus control. ``immature_units`` is set for
    retention metrics only."""

    variant: str
    name: str
    is_control: bool
    units: int
    mean: float | None
    effect: float | None = None
    ci: tuple[float, float] | None = None
    stderr: float | None = None
    p_value: float | None = None
    p_value_unadjusted: float | None = None
    chance_to_win: float | None = None
    risk: tuple[float, float] | None = None
    significant: bool = False
    outcome: str | None = None
    status: str | None = None
    variance_reduction: float | None = None
    absolute_effect: float | None = None
    absolute_ci: tuple[float, float] | None = None
    immature_units: int | None = None

    @property
    def is_better(self) -> bool:
        return self.outcome == BETTER

    @property
    def is_worse(self) -> bool:
        return self.outcome == WORSE

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variant": self.variant,
            "name": self.name,
            "is_control": self.is_control,
            "units": self.units,
            "mean": self.mean,
        }
        if not self.is_control:
            out.update(
                {
                    "effect": self.effect,
                    "ci": pair_out(self.ci),
                    "stderr": self.stderr,
                    "p_value": self.p_value,
                    "p_value_unadjusted": self.p_value_unadjusted,
                    "chance_to_win": self.chance_to_win,
                    "risk": pair_out(self.risk),
                    "significant": self.significant,
                    "outcome": self.outcome,
                    "status": self.status,
                    "variance_reduction": self.variance_reduction,
                    "absolute_effect": self.absolute_effect,
                    "absolute_ci": pair_out(self.absolute_ci),
                }
            )
        if self.immature_units is not None:
            out["immature_units"] = self.immature_units
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantResult:
        immature = data.get("immature_units")
        base = cls(
            variant=str(data["variant"]),
            name=str(data.get("name", data["variant"])),
            is_control=bool(data["is_control"]),
            units=int(data["units"]),
            mean=num(data.get("mean")),
            immature_units=None if immature is None else int(immature),
        )
        if base.is_control:
            return base
        return replace(
            base,
            effect=num(data.get("effect")),
            ci=pair(data.get("ci")),
            stderr=num(data.get("stderr")),
            p_value=num(data.get("p_value")),
            p_value_unadjusted=num(data.get("p_value_unadjusted")),
            chance_to_win=num(data.get("chance_to_win")),
            risk=pair(data.get("risk")),
            significant=bool(data.get("significant", False)),
            outcome=data.get("outcome"),
            status=data.get("status"),
            variance_reduction=num(data.get("variance_reduction")),
            absolute_effect=num(data.get("absolute_effect")),
            absolute_ci=pair(data.get("absolute_ci")),
        )


def _variants(data: Any) -> tuple[VariantResult, ...]:
    return tuple(VariantResult.from_dict(v) for v in data)


@dataclass(frozen=True)
class MetricResult:
    """One metric: its definition as analysed and a row per variant (control first)."""

    metric: str
    name: str
    type: str
    role: str
    higher_is_better: bool
    corrected: bool
    cuped: bool
    winsorized_at: float | None
    variants: tuple[VariantResult, ...]

    @property
    def treatments(self) -> tuple[VariantResult, ...]:
        return tuple(v for v in self.variants if not v.is_control)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "name": self.name,
            "type": self.type,
            "role": self.role,
            "higher_is_better": self.higher_is_better,
            "corrected": self.corrected,
            "cuped": self.cuped,
            "winsorized_at": self.winsorized_at,
            "variants": [v.to_dict() for v in self.variants],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricResult:
        return cls(
            metric=str(data["metric"]),
            name=str(data.get("name", data["metric"])),
            type=str(data["type"]),
            role=str(data["role"]),
            higher_is_better=bool(data.get("higher_is_better", True)),
            corrected=bool(data.get("corrected", False)),
            cuped=bool(data.get("cuped", False)),
            winsorized_at=num(data.get("winsorized_at")),
            variants=_variants(data["variants"]),
        )


@dataclass(frozen=True)
class SrmResult:
    """Sample ratio mismatch: observed units per variant against the weights' expectation."""

    p_value: float | None
    mismatch: bool
    statistic: float | None
    observed: dict[str, int]
    expected: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_value": self.p_value,
            "mismatch": self.mismatch,
            "statistic": self.statistic,
            "observed": dict(self.observed),
            "expected": dict(self.expected),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SrmResult:
        return cls(
            p_value=num(data.get("p_value")),
            mismatch=bool(data["mismatch"]),
            statistic=num(data.get("statistic")),
            observed=counts(data.get("observed")),
            expected=floats(data.get("expected")),
        )


@dataclass(frozen=True)
class SegmentResult:
    """The primary metric for the units whose ``attribute`` is ``value`` (uncorrected)."""

    attribute: str
    value: str
    metric: str
    units: int
    srm: SrmResult
    variants: tuple[VariantResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "value": self.value,
            "metric": self.metric,
            "units": self.units,
            "srm": self.srm.to_dict(),
            "variants": [v.to_dict() for v in self.variants],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentResult:
        return cls(
            attribute=str(data["attribute"]),
            value=str(data["value"]),
            metric=str(data["metric"]),
            units=int(data["units"]),
            srm=SrmResult.from_dict(data["srm"]),
            variants=_variants(data["variants"]),
        )


@dataclass(frozen=True)
class PowerResult:
    """The primary metric's power against the plan's minimum detectable effect."""

    metric: str | None
    planned_mde: float | None
    power: float
    units_per_arm: int
    required_units_per_arm: int | None
    current_mde: float | None
    planned_sample_reached: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "planned_mde": self.planned_mde,
            "power": self.power,
            "units_per_arm": self.units_per_arm,
            "required_units_per_arm": self.required_units_per_arm,
            "current_mde": self.current_mde,
            "planned_sample_reached": self.planned_sample_reached,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PowerResult:
        required = data.get("required_units_per_arm")
        return cls(
            metric=data.get("metric"),
            planned_mde=num(data.get("planned_mde")),
            power=float(data["power"]),
            units_per_arm=int(data["units_per_arm"]),
            required_units_per_arm=None if required is None else int(required),
            current_mde=num(data.get("current_mde")),
            planned_sample_reached=data.get("planned_sample_reached"),
        )


@dataclass(frozen=True)
class HealthCheck:
    """A problem found in the snapshot. ``condition`` is stable across snapshots (the same
    problem gives the same key), so the owner is notified once."""

    check: str
    severity: str
    condition: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "severity": self.severity,
            "condition": self.condition,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthCheck:
        return cls(
            check=str(data["check"]),
            severity=str(data["severity"]),
            condition=str(data.get("condition") or data["check"]),
            message=str(data["message"]),
        )


@dataclass(frozen=True)
class Decision:
    """The recommendation (``ship`` names ``variant``), with its reasons in words."""

    recommendation: str
    variant: str | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "variant": self.variant,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            recommendation=str(data["recommendation"]),
            variant=data.get("variant"),
            reasons=tuple(str(r) for r in data.get("reasons", ())),
        )


@dataclass(frozen=True)
class UnitsResult:
    total: int
    by_variant: dict[str, int]
    excluded: Excluded

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_variant": dict(self.by_variant),
            "excluded": self.excluded.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnitsResult:
        return cls(
            total=int(data["total"]),
            by_variant=counts(data["by_variant"]),
            excluded=Excluded.from_dict(data.get("excluded")),
        )


@dataclass(frozen=True)
class Results:
    """The analysis of one experiment phase as of ``as_of`` (see docs/analysis.md)."""

    schema_version: int
    experiment: str
    phase: int
    status: str
    computed_at: str
    as_of: str
    engine_version: str
    plan: Plan
    units: UnitsResult
    events: int
    freshness: Freshness
    srm: SrmResult
    power: PowerResult
    metrics: tuple[MetricResult, ...]
    segments: tuple[SegmentResult, ...]
    decision: Decision
    health: tuple[HealthCheck, ...]

    @property
    def primary(self) -> MetricResult | None:
        return next((m for m in self.metrics if m.role == "primary"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "experiment": self.experiment,
            "phase": self.phase,
            "status": self.status,
            "computed_at": self.computed_at,
            "as_of": self.as_of,
            "engine_version": self.engine_version,
            "plan": self.plan.to_dict(),
            "units": self.units.to_dict(),
            "events": self.events,
            "freshness": self.freshness.to_dict(),
            "srm": self.srm.to_dict(),
            "power": self.power.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "segments": [s.to_dict() for s in self.segments],
            "decision": self.decision.to_dict(),
            "health": [h.to_dict() for h in self.health],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Results:
        """Read results of the current schema version (``results_from_stored`` reads any)."""
        version = data.get("schema_version")
        if version != RESULTS_SCHEMA_VERSION:
            raise ValueError(
                f"Results.from_dict reads schema version {RESULTS_SCHEMA_VERSION}, got "
                f"{version!r}; use results_from_stored for stored results"
            )
        return cls(
            schema_version=RESULTS_SCHEMA_VERSION,
            experiment=str(data["experiment"]),
            phase=int(data["phase"]),
            status=str(data["status"]),
            computed_at=str(data["computed_at"]),
            as_of=str(data["as_of"]),
            engine_version=str(data.get("engine_version", "")),
            plan=Plan.from_dict(data["plan"]),
            units=UnitsResult.from_dict(data["units"]),
            events=int(data.get("events", 0)),
            freshness=Freshness.from_dict(data.get("freshness")),
            srm=SrmResult.from_dict(data["srm"]),
            power=PowerResult.from_dict(data["power"]),
            metrics=tuple(MetricResult.from_dict(m) for m in data["metrics"]),
            segments=tuple(SegmentResult.from_dict(s) for s in data.get("segments", [])),
            decision=Decision.from_dict(data["decision"]),
            health=tuple(HealthCheck.from_dict(h) for h in data.get("health", [])),
        )
