"""Per-variant sufficient statistics from the per-unit table: the SELECT list and the mapping
of a result row back to the statistics engine's input classes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.stats import MeanStats, ProportionStats, RatioStats

from .columns import MetricSpec
from .dialect import Dialect


def capped_columns(metrics: Sequence[MetricSpec]) -> dict[str, float]:
    """Per-unit columns to winsorize (column -> percentile): a mean metric's value (and its
    pre-exposure value) and a ratio metric's numerator."""
    out: dict[str, float] = {}
    for m in metrics:
        if not m.winsorize_percentile:
            continue
        if m.type == "mean":
            out[f"{m.prefix}_y"] = m.winsorize_percentile
            if m.cuped:
                out[f"{m.prefix}_x"] = m.winsorize_percentile
        elif m.type == "ratio":
            out[f"{m.prefix}_num"] = m.winsorize_percentile
    return out


def _value(d: Dialect, column: str, caps: dict[str, float]) -> tuple[str, list[Any]]:
    if column in caps:
        return d.least(column, "%s"), [caps[column]]
    return column, []


def metric_sums(d: Dialect, m: MetricSpec, caps: dict[str, float]) -> tuple[list[str], list[Any]]:
    """Aggregate expressions (over the per-unit table) for one metric, and their parameters."""
    p = m.prefix
    exprs: list[str] = []
    params: list[Any] = []

    def add(expr: str, ps: list[Any]) -> None:
        exprs.append(expr)
        params.extend(ps)

    if m.type == "conversion":
        add(f"COALESCE(SUM({p}_y), 0)", [])
    elif m.type == "retention":
        add(f"COUNT({p}_y)", [])
        add(f"COALESCE(SUM({p}_y), 0)", [])
    elif m.type == "mean":
        y, yp = _value(d, f"{p}_y", caps)
        add(f"COALESCE(SUM({y}), 0)", yp)
        add(f"COALESCE(SUM({y} * {y}), 0)", yp + yp)
        if m.cuped:
            x, xp = _value(d, f"{p}_x", caps)
            add(f"COALESCE(SUM({x}), 0)", xp)
            add(f"COALESCE(SUM({x} * {x}), 0)", xp + xp)
            add(f"COALESCE(SUM({y} * {x}), 0)", yp + xp)
    elif m.type == "ratio":
        num, nump = _value(d, f"{p}_num", caps)
        den = f"{p}_den"
        add(f"COALESCE(SUM({num}), 0)", nump)
        add(f"COALESCE(SUM({num} * {num}), 0)", nump + nump)
        add(f"COALESCE(SUM({den}), 0)", [])
        add(f"COALESCE(SUM({den} * {den}), 0)", [])
        add(f"COALESCE(SUM({num} * {den}), 0)", nump)
    return exprs, params


def metric_width(m: MetricSpec) -> int:
    """How many values ``metric_sums`` returns for ``m``."""
    return {"conversion": 1, "retention": 2, "ratio": 5}.get(m.type, 5 if m.cuped else 2)


def stats_from_row(m: MetricSpec, units: int, values: Sequence[Any]) -> tuple[Any, int]:
    """(engine input, units left out as immature) from ``metric_sums`` values of one group."""
    v = [0 if x is None else x for x in values]
    if m.type == "conversion":
        return ProportionStats(n=units, conversions=int(v[0])), 0
    if m.type == "retention":
        mature = int(v[0])
        return ProportionStats(n=mature, conversions=int(v[1])), units - mature
    if m.type == "mean":
        if m.cuped:
            return (
                MeanStats(
                    n=units,
                    sum=float(v[0]),
                    sum_squares=float(v[1]),
                    pre_sum=float(v[2]),
                    pre_sum_squares=float(v[3]),
                    cross_sum=float(v[4]),
                ),
                0,
            )
        return MeanStats(n=units, sum=float(v[0]), sum_squares=float(v[1])), 0
    return (
        RatioStats(
            n=units,
            numerator_sum=float(v[0]),
            numerator_sum_squares=float(v[1]),
            denominator_sum=float(v[2]),
            denominator_sum_squares=float(v[3]),
            numerator_denominator_sum=float(v[4]),
        ),
        0,
    )
