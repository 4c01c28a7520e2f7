"""From a snapshot's inputs and plan to its results: comparisons, correction, SRM, segments.

``analyze`` is a pure function of the inputs and plan (no database), so a stored snapshot is
recomputed exactly from what it stores. The results are the typed contract of
``analysis.engine.contract`` (documented in docs/analysis.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.engine.contract import (
    ABSOLUTE,
    RELATIVE,
    RESULTS_SCHEMA_VERSION,
    MetricInputs,
    MetricResult,
    Plan,
    PointResult,
    Results,
    SegmentResult,
    SnapshotInputs,
    SrmResult,
    UnitsResult,
    VariantResult,
    VariantSpec,
)
from analysis.engine.contract.convert import num, pair
from analysis.engine.stats import ArmStats, Comparison, adjust_p_values, compare, srm_check
from analysis.engine.stats.moments import arm_mean
from analysis.engine.stats.srm import srm_level
from analysis.engine.stats.version import ENGINE_VERSION
from core.vocab import primary_of

from .breaker_rule import guardrail_breaker
from .decision import decision_summary
from .health import health_checks
from .outcomes import variant_outcome
from .power import primary_power

CORRECTED_ROLES = ("primary", "secondary")
# The metric types that count only mature units (their ``stats.n``), the others counted as
# ``immature_units``: retention day N, and the curves' points.
MATURING_TYPES = ("retention", "retention_curve", "value_curve")


def _srm(inputs: SnapshotInputs, units: Mapping[str, int]) -> SrmResult:
    keys = [v.key for v in inputs.variants]
    observed = [int(units.get(k, 0)) for k in keys]
    r = srm_check(observed, [v.weight for v in inputs.variants])
    return SrmResult(
        p_value=num(r.p_value),
        mismatch=bool(r.mismatch),
        statistic=num(r.statistic),
        observed=dict(zip(keys, observed, strict=True)),
        expected={k: num(e) for k, e in zip(keys, r.expected, strict=True)},
        level=srm_level(r.p_value),
    )


@dataclass(frozen=True)
class _Row:
    """A variant's comparison with control before the multiple-testing correction."""

    spec: VariantSpec
    units: int
    mean: float | None
    relative: Comparison | None = None
    absolute: Comparison | None = None
    immature_units: int | None = None

    @property
    def basis(self) -> tuple[str, Comparison] | None:
        """The comparison that decides significance and direction: the relative one, or the
        absolute one when the relative effect could not be computed (zero control mean,
        zero variance, unbounded interval) but the absolute difference could."""
        if self.relative is None or self.absolute is None:
            return None
        if not self.relative.ok and self.absolute.ok:
            return ABSOLUTE, self.absolute
        return RELATIVE, self.relative


def _rows(
    inputs: SnapshotInputs,
    stats: Mapping[str, ArmStats],
    units: Mapping[str, int],
    plan: Plan,
    higher_is_better: bool,
    immature: Mapping[str, int] | None = None,
) -> list[_Row]:
    control = stats[inputs.control.key]
    rows = []
    for v in inputs.variants:
        s = stats[v.key]
        relative = absolute = None
        if not v.is_control:
            kw: dict[str, Any] = {
                "method": plan.method,
                "alpha": plan.alpha,
                "higher_is_better": higher_is_better,
            }
            relative = compare(control, s, relative=True, **kw)
            absolute = compare(control, s, relative=False, **kw)
        rows.append(
            _Row(
                spec=v,
                units=int(units.get(v.key, s.n)),
                mean=num(arm_mean(s)),
                relative=relative,
                absolute=absolute,
                immature_units=None if immature is None else int(immature.get(v.key, 0)),
            )
        )
    return rows


def _variant(
    row: _Row, *, higher_is_better: bool, alpha: float, adjusted_p: float | None = None
) -> VariantResult:
    """The variant's result; with ``adjusted_p`` the p-value and significance are the
    corrected ones. The outcome is decided here, once, from the final significance."""
    base = VariantResult(
        variant=row.spec.key,
        name=row.spec.name,
        is_control=row.spec.is_control,
        units=row.units,
        mean=row.mean,
        immature_units=row.immature_units,
    )
    cmp, absolute, basis = row.relative, row.absolute, row.basis
    if cmp is None or absolute is None or basis is None:
        return base
    basis_name, decider = basis
    significant = bool(adjusted_p < alpha) if adjusted_p is not None else bool(decider.significant)
    return VariantResult(
        **{f: getattr(base, f) for f in ("variant", "name", "is_control", "units", "mean")},
        effect=num(cmp.effect),
        ci=pair(cmp.ci),
        stderr=num(cmp.stderr),
        p_value=num(adjusted_p if adjusted_p is not None else decider.p_value),
        p_value_unadjusted=num(decider.p_value),
        chance_to_win=num(decider.chance_to_win),
        risk=pair(cmp.risk),
        significant=significant,
        outcome=variant_outcome(
            ok=decider.ok,
            effect=decider.effect,
            higher_is_better=higher_is_better,
            significant=significant,
        ),
        status=cmp.status,
        variance_reduction=num(cmp.variance_reduction),
        absolute_effect=num(absolute.effect),
        absolute_ci=pair(absolute.ci),
        immature_units=row.immature_units,
        test=decider.test,
        significance_basis=basis_name if decider.ok else None,
    )


def _corrected(plan: Plan, role: str) -> bool:
    return (
        plan.correction_method != "none" and plan.method != "bayesian" and role in CORRECTED_ROLES
    )


def _adjusted(
    metrics: list[tuple[MetricInputs, list[_Row]]], plan: Plan
) -> dict[tuple[str, str], float]:
    """(metric, variant) -> adjusted p-value, over the family of primary and secondary
    metrics x non-control variants that have a p-value. Empty when the plan corrects nothing."""
    family = [
        (m.metric, row.spec.key, basis[1].p_value)
        for m, rows in metrics
        if _corrected(plan, m.role)
        for row in rows
        if (basis := row.basis) is not None and basis[1].p_value is not None
    ]
    if not family:
        return {}
    adjusted = adjust_p_values([p for _, _, p in family], plan.correction_method)
    return {(m, v): p for (m, v, _), p in zip(family, adjusted, strict=True)}


def _metric_units(inputs: SnapshotInputs, m: MetricInputs) -> dict[str, int]:
    units = {k: s.n for k, s in m.stats.items()}
    if m.type not in MATURING_TYPES:
        # Units without events are still units: the experiment's counts, not the metric's.
        units = {k: int(inputs.units.get(k, n)) for k, n in units.items()}
    return units


def _points(inputs: SnapshotInputs, m: MetricInputs, plan: Plan) -> tuple[PointResult, ...]:
    """A curve metric's points in day order, each compared as a metric of its own over its
    mature units (uncorrected: only the headline point joins the correction)."""
    return tuple(
        PointResult(
            point=p.point,
            day_from=p.day_from,
            day_to=p.day_to,
            variants=tuple(
                _variant(row, higher_is_better=m.higher_is_better, alpha=plan.alpha)
                for row in _rows(
                    inputs,
                    p.stats,
                    {k: s.n for k, s in p.stats.items()},
                    plan,
                    m.higher_is_better,
                    p.immature_units,
                )
            ),
        )
        for p in sorted(m.points, key=lambda p: (p.day_to - p.day_from > 1, p.day_to, p.day_from))
    )


def _metric_results(inputs: SnapshotInputs, plan: Plan) -> tuple[MetricResult, ...]:
    drafts = [
        (
            m,
            _rows(
                inputs,
                m.stats,
                _metric_units(inputs, m),
                plan,
                m.higher_is_better,
                m.immature_units if m.type in MATURING_TYPES else None,
            ),
        )
        for m in inputs.metrics
    ]
    adjusted = _adjusted(drafts, plan)
    return tuple(
        MetricResult(
            metric=m.metric,
            name=m.name,
            type=m.type,
            role=m.role,
            higher_is_better=m.higher_is_better,
            corrected=_corrected(plan, m.role),
            cuped=m.cuped,
            winsorized_at=num(m.winsorized_at),
            status=m.status,
            out_of_range_units=m.out_of_range_units,
            headline=m.points[0].point if m.points else None,
            points=_points(inputs, m, plan),
            variants=tuple(
                _variant(
                    row,
                    higher_is_better=m.higher_is_better,
                    alpha=plan.alpha,
                    adjusted_p=adjusted.get((m.metric, row.spec.key)),
                )
                for row in rows
            ),
        )
        for m, rows in drafts
    )


def _segments(
    inputs: SnapshotInputs, plan: Plan, higher_is_better: bool
) -> tuple[SegmentResult, ...]:
    """The segments' results; with a segment correction, each dimension's p-values (its
    segments x non-control variants) are adjusted together (``adjust_p_values``)."""
    drafts = [
        (seg, _rows(inputs, seg.stats, seg.units, plan, higher_is_better))
        for seg in inputs.segments
    ]
    method = plan.segment_correction_method
    adjusted: dict[tuple[str, str, str], float] = {}
    if method != "none":
        families: dict[str, list[tuple[str, str, float]]] = {}
        for seg, rows in drafts:
            for row in rows:
                basis = row.basis
                if basis is not None and basis[1].p_value is not None:
                    families.setdefault(seg.attribute, []).append(
                        (seg.value, row.spec.key, basis[1].p_value)
                    )
        for attribute, family in families.items():
            ps = adjust_p_values([p for _, _, p in family], method)
            adjusted.update({(attribute, v, k): p for (v, k, _), p in zip(family, ps, strict=True)})
    return tuple(
        SegmentResult(
            attribute=seg.attribute,
            value=seg.value,
            metric=seg.metric,
            units=sum(seg.units.values()),
            srm=_srm(inputs, seg.units),
            variants=tuple(
                _variant(
                    row,
                    higher_is_better=higher_is_better,
                    alpha=plan.alpha,
                    adjusted_p=adjusted.get((seg.attribute, seg.value, row.spec.key)),
                )
                for row in rows
            ),
            corrected=method != "none",
        )
        for seg, rows in drafts
    )


def analyze(
    inputs: SnapshotInputs,
    plan: Plan,
    *,
    computed_at: str,
    engine_version: str = ENGINE_VERSION,
) -> Results:
    """The analysis of a snapshot, from its inputs and plan alone: the engine's one entry
    point (``analysis.services.snapshots`` calls it on every refresh and recompute)."""
    metrics = _metric_results(inputs, plan)
    primary = primary_of(metrics)
    primary_hib = primary.higher_is_better if primary else True
    segments = _segments(inputs, plan, primary_hib)
    srm = _srm(inputs, inputs.units)
    power = primary_power(inputs=inputs, plan=plan, primary=primary)
    return Results(
        schema_version=RESULTS_SCHEMA_VERSION,
        experiment=inputs.experiment,
        phase=inputs.phase,
        status=inputs.status,
        computed_at=computed_at,
        as_of=inputs.as_of,
        engine_version=engine_version,
        plan=plan,
        units=UnitsResult(
            total=inputs.total_units, by_variant=dict(inputs.units), excluded=inputs.excluded
        ),
        events=inputs.events,
        freshness=inputs.freshness,
        srm=srm,
        power=power,
        metrics=metrics,
        segments=segments,
        decision=decision_summary(
            inputs=inputs, plan=plan, srm=srm, metrics=metrics, power=power, segments=segments
        ),
        health=health_checks(
            inputs=inputs, plan=plan, srm=srm, metrics=metrics, segments=segments, power=power
        ),
        breaker=guardrail_breaker(inputs=inputs, plan=plan),
    )


def results_compute(
    *,
    inputs: Mapping[str, Any],
    plan: Mapping[str, Any],
    computed_at: str,
    engine_version: str,
) -> dict[str, Any]:
    """``analyze`` from stored JSON to stored JSON: the results a snapshot with these
    ``inputs`` and ``plan`` stores in ``ResultSnapshot.results`` (see docs/analysis.md)."""
    return analyze(
        SnapshotInputs.from_dict(inputs),
        Plan.from_dict(plan),
        computed_at=computed_at,
        engine_version=engine_version,
    ).to_dict()
