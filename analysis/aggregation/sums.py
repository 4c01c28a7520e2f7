"""Per-variant sufficient statistics from the per-unit table: the SELECT list and the mapping
of a result row back to the statistics engine's input classes, both derived from the metric
types declared in ``columns.py``.

Shifted sums: a column that declares a ``shift`` field is summed as (value - s), with s its
shift (``column_shift``, from the pooled mean of the column over all analysed units), and s
is stored in that field of the statistics. Far from 0 (values like 1e8 + N(0, 1)) plain sums
lose the variance to cancellation in sum of squares - (sum)^2 / n; centred sums keep it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .columns import MetricSpec, metric_columns, metric_sums, metric_type
from .dialect import lit


def capped_columns(metrics: Sequence[MetricSpec]) -> dict[str, float]:
    """Per-unit columns to winsorize (column -> percentile): for a winsorized metric, each of
    its columns that declares a cap (a mean metric's value and pre-exposure value, a ratio
    metric's numerator)."""
    out: dict[str, float] = {}
    for m in metrics:
        if not m.winsorize_percentile:
            continue
        names = metric_columns(m)
        for col in metric_type(m).columns:
            if col.cap and col.name in names:
                out[names[col.name]] = m.winsorize_percentile
    return out


def metric_caps(m: MetricSpec, caps: Mapping[str, float]) -> dict[str, float]:
    """The caps applied to ``m``'s columns, by their declared cap name (``value``, ``pre``,
    ``numerator``), as stored in the snapshot inputs."""
    names = metric_columns(m)
    return {
        col.cap: caps[names[col.name]]
        for col in metric_type(m).columns
        if col.cap and names.get(col.name) in caps
    }


def column_values(m: MetricSpec, caps: Mapping[str, float]) -> dict[str, str]:
    """Declared column name -> its value over the per-unit table (canonical SQL), capped
    when winsorized."""
    values: dict[str, str] = {}
    for name, column in metric_columns(m).items():
        if column in caps:
            values[name] = f"LEAST({column}, {lit(float(caps[column]))})"
        else:
            values[name] = column
    return values


def shifted_columns(m: MetricSpec) -> dict[str, str]:
    """``m``'s columns that are summed around a shift: declared name -> statistics field."""
    names = metric_columns(m)
    return {
        col.name: col.shift for col in metric_type(m).columns if col.shift and col.name in names
    }


# A column is centred when its mean is more than this many standard deviations from 0: there
# plain sums start to lose digits (the cancellation grows as (mean / sd)^2); nearer to 0 the
# shift is 0 and the sums are the plain sums they always were.
SHIFT_AT_SDS = 10.0


def column_shift(mean: float, mean_of_squares: float) -> float:
    """The shift of one column from its pooled mean and mean of squares (plain, possibly
    imprecise moments: a variance lost to cancellation only means the data is far from 0)."""
    if not (math.isfinite(mean) and math.isfinite(mean_of_squares)):
        return 0.0
    variance = max(mean_of_squares - mean * mean, 0.0)
    if mean * mean > SHIFT_AT_SDS * SHIFT_AT_SDS * variance:
        return mean
    return 0.0


def sum_alias(m: MetricSpec, field: str) -> str:
    """The per-variant query's alias for one statistics field of ``m``."""
    return f"{m.prefix}__{field}"


def metric_select(m: MetricSpec, caps: Mapping[str, float], shifts: Mapping[str, float]) -> str:
    """Aggregate expressions (canonical SQL, over the per-unit table) for ``m``, each ``AS``
    its alias (``sum_alias``), comma-separated, with the caps and the shifts applied
    (per-unit column -> shift; a column absent or 0 is summed plainly)."""
    values = column_values(m, caps)
    names = metric_columns(m)
    for name in shifted_columns(m):
        shift = shifts.get(names[name], 0.0)
        if shift:
            values[name] = f"({values[name]} - {lit(float(shift))})"
    return ", ".join(f"{s.sql.format(**values)} AS {sum_alias(m, s.field)}" for s in metric_sums(m))


def stats_from_row(
    m: MetricSpec, units: int, row: Mapping[str, Any], shifts: Mapping[str, float]
) -> tuple[Any, int]:
    """(engine input, units left out as immature) from one group's values, read by their
    aliases (``sum_alias``), with the shifts the sums were taken around. Units whose metric
    value is NULL (immature retention units) are left out of ``n`` when the metric type
    declares an ``n`` sum."""
    values = {s.field: _number(row[sum_alias(m, s.field)]) for s in metric_sums(m)}
    n = int(values.pop("n", units))
    names = metric_columns(m)
    for name, field in shifted_columns(m).items():
        if shifts.get(names[name], 0.0):
            values[field] = float(shifts[names[name]])
    return metric_type(m).stats(n=n, **values), units - n


def zero_stats(m: MetricSpec) -> Any:
    """The engine input of a variant without units."""
    values = {s.field: 0 for s in metric_sums(m) if s.field != "n"}
    return metric_type(m).stats(n=0, **values)


def _number(value: Any) -> Any:
    return 0 if value is None else value
