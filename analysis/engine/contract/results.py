"""Typed results of a snapshot: what ``ResultSnapshot.results`` stores and the API serves.

Every class is a frozen dataclass with ``to_dict()`` (the stored and served JSON: plain
numbers, never NaN, intervals as two-element lists) and ``from_dict()`` (its inverse, for
the current schema version; older stored results go through ``results_from_stored``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.vocab import Recommendation, primary_of

from .breaker import BreakerResult
from .convert import counts, num
from .inputs import Excluded, Freshness, Plan
from .messages import Coded
from .metrics import MetricResult, SegmentResult, SrmResult

RESULTS_SCHEMA_VERSION = 5

# Values of ``Decision.recommendation`` (core.vocab.Recommendation).
SHIP, KEEP_CONTROL, KEEP_RUNNING, INCONCLUSIVE = (
    Recommendation.SHIP,
    Recommendation.KEEP_CONTROL,
    Recommendation.KEEP_RUNNING,
    Recommendation.INCONCLUSIVE,
)
RECOMMENDATIONS = tuple(Recommendation)


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
    problem gives the same key), so the owner is notified once. ``coded`` is the message as a
    code and its values (``analysis.engine.codes.HealthCode``), put into words by
    ``analysis.words``; results stored before schema version 4 have no code and keep their
    English words in ``stored_message``."""

    check: str
    severity: str
    condition: str
    coded: Coded | None = None
    stored_message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "condition": self.condition,
            "code": self.coded.code if self.coded else None,
            "params": dict(self.coded.params) if self.coded else {},
            **({"stored_message": self.stored_message} if self.stored_message else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthCheck:
        code = data.get("code")
        return cls(
            check=str(data["check"]),
            severity=str(data["severity"]),
            condition=str(data.get("condition") or data["check"]),
            coded=Coded(str(code), dict(data.get("params") or {})) if code else None,
            stored_message=str(data.get("stored_message") or ""),
        )


@dataclass(frozen=True)
class Decision:
    """The recommendation (``ship`` names ``variant``), with its reasons as codes and values
    (``analysis.engine.codes.ReasonCode``), put into words by ``analysis.words``; results
    stored before schema version 4 have no codes and keep their English words in
    ``stored_reasons``."""

    recommendation: str
    variant: str | None
    reason_codes: tuple[Coded, ...] = field(default=())
    stored_reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "variant": self.variant,
            "reason_codes": [c.to_dict() for c in self.reason_codes],
            **({"stored_reasons": list(self.stored_reasons)} if self.stored_reasons else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            recommendation=str(data["recommendation"]),
            variant=data.get("variant"),
            reason_codes=tuple(Coded.from_dict(c) for c in data.get("reason_codes") or ()),
            stored_reasons=tuple(str(r) for r in data.get("stored_reasons") or ()),
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
    # The guardrail circuit breaker's reading; None (and absent from the dict) when the plan
    # has ``guardrail_auto_pause`` off.
    breaker: BreakerResult | None = None

    @property
    def primary(self) -> MetricResult | None:
        return primary_of(self.metrics)

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
            **({"breaker": self.breaker.to_dict()} if self.breaker is not None else {}),
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
            breaker=BreakerResult.from_dict(data["breaker"]) if data.get("breaker") else None,
        )
