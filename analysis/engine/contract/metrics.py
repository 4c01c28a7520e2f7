"""Typed per-metric results: a row per variant, metrics, segments and the SRM check.

Part of the results contract (``analysis.engine.contract.results``); see that module for
``to_dict`` / ``from_dict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.vocab import MetricRole, Outcome

from .convert import counts, floats, num, pair, pair_out

# Values of ``VariantResult.outcome``: decided once, after the multiple-testing correction
# (``analysis.engine.outcomes.variant_outcome``).
# (core.vocab.Outcome)
BETTER = Outcome.BETTER
WORSE = Outcome.WORSE
NOT_SIGNIFICANT = Outcome.NOT_SIGNIFICANT
NOT_ENOUGH_DATA = Outcome.NOT_ENOUGH_DATA
OUTCOMES = tuple(Outcome)


# Values of ``VariantResult.significance_basis``: the comparison whose p-value, significance
# and direction decided the outcome. ``absolute`` when the relative effect could not be
# computed (its ``status`` says why) but the absolute difference could.
RELATIVE = "relative"
ABSOLUTE = "absolute"
SIGNIFICANCE_BASES = (RELATIVE, ABSOLUTE)

# Values of ``SrmResult.level`` (``analysis.engine.stats.srm.srm_level``).
SRM_OK, SRM_WARNING, SRM_ERROR = "ok", "warning", "error"
SRM_LEVELS = (SRM_OK, SRM_WARNING, SRM_ERROR)


# Values of ``MetricResult.role`` (core.vocab.MetricRole).
ROLES = tuple(MetricRole)

# Values of ``MetricResult.status``: ``values_out_of_range`` when some units' event values were
# beyond the accepted range (+-1e100) and were counted at the limit (the aggregation's
# ``analysis.aggregation.inputs.VALUES_OUT_OF_RANGE``); ``out_of_range_units`` says how many.
METRIC_OK = "ok"
VALUES_OUT_OF_RANGE = "values_out_of_range"
METRIC_STATUSES = (METRIC_OK, VALUES_OUT_OF_RANGE)


@dataclass(frozen=True)
class VariantResult:
    """One variant of one metric (or segment). The control has only the first five fields;
    the comparison fields describe treatment versus control. ``immature_units`` is set for
    retention metrics only.

    ``p_value``, ``significant`` and ``outcome`` come from the comparison named by
    ``significance_basis`` (the relative one, or the absolute one when the relative effect
    could not be computed), tested by ``test`` (``analysis.engine.stats.exact.TESTS``)."""

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
    test: str | None = None
    significance_basis: str | None = None

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
                    "test": self.test,
                    "significance_basis": self.significance_basis,
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
            test=data.get("test"),
            significance_basis=data.get("significance_basis"),
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
    # ``ok`` or ``values_out_of_range`` (None: results stored before schema version 4).
    status: str | None = METRIC_OK
    out_of_range_units: int | None = 0

    @property
    def values_out_of_range(self) -> bool:
        return self.status == VALUES_OUT_OF_RANGE

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
            "status": self.status,
            "out_of_range_units": self.out_of_range_units,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricResult:
        units = data.get("out_of_range_units")
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
            status=data.get("status"),
            out_of_range_units=None if units is None else int(units),
        )


@dataclass(frozen=True)
class SrmResult:
    """Sample ratio mismatch: observed units per variant against the weights' expectation.

    ``level`` is ``error`` at p < 0.001 (``mismatch``; the decision is held), ``warning`` at
    p < 0.01, else ``ok``."""

    p_value: float | None
    mismatch: bool
    statistic: float | None
    observed: dict[str, int]
    expected: dict[str, float | None]
    level: str = SRM_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_value": self.p_value,
            "mismatch": self.mismatch,
            "statistic": self.statistic,
            "observed": dict(self.observed),
            "expected": dict(self.expected),
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SrmResult:
        return cls(
            p_value=num(data.get("p_value")),
            mismatch=bool(data["mismatch"]),
            statistic=num(data.get("statistic")),
            observed=counts(data.get("observed")),
            expected=floats(data.get("expected")),
            level=str(data["level"]),
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
