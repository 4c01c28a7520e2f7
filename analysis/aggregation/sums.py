"""Per-variant sufficient statistics from the per-unit table: the SELECT list and the mapping
of a result row back to the statistics engine's input classes, both derived from the metric
types declared in ``columns.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .columns import MetricSpec, metric_columns, metric_sums, metric_type
from .dialect import Dialect, Fragment


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


def sum_alias(m: MetricSpec, field: str) -> str:
    """The per-variant query's alias for one statistics field of ``m``."""
    return f"{m.prefix}__{field}"


def metric_select(d: Dialect, m: MetricSpec, caps: Mapping[str, float]) -> Fragment:
    """Aggregate expressions (over the per-unit table) for ``m``, each ``AS`` its alias
    (``sum_alias``), comma-separated, with their parameters (the caps)."""
    values: dict[str, str] = {}
    params: dict[str, Any] = {}
    for name, column in metric_columns(m).items():
        if column in caps:
            param = f"{column}_cap"
            values[name] = d.least(column, f"%({param})s")
            params[param] = caps[column]
        else:
            values[name] = column
    exprs = [f"{s.sql.format(**values)} AS {sum_alias(m, s.field)}" for s in metric_sums(m)]
    return Fragment(", ".join(exprs), params)


def stats_from_row(m: MetricSpec, units: int, row: Mapping[str, Any]) -> tuple[Any, int]:
    """(engine input, units left out as immature) from one group's values, read by their
    aliases (``sum_alias``). Units whose metric value is NULL (immature retention units) are
    left out of ``n`` when the metric type declares an ``n`` sum."""
    values = {s.field: _number(row[sum_alias(m, s.field)]) for s in metric_sums(m)}
    n = int(values.pop("n", units))
    return metric_type(m).stats(n=n, **values), units - n


def zero_stats(m: MetricSpec) -> Any:
    """The engine input of a variant without units."""
    values = {s.field: 0 for s in metric_sums(m) if s.field != "n"}
    return metric_type(m).stats(n=0, **values)


def _number(value: Any) -> Any:
    return 0 if value is None else value
