"""Per-unit columns: what each metric needs from a unit's events, declared once per metric type.

One pass over the events joined to the exposed units computes, per unit, every column of every
metric of the experiment (``y`` the metric value, ``x`` its pre-exposure value for CUPED,
``num``/``den`` for ratios). The windows are relative to the unit's first exposure ``t0``:

- conversion, mean and ratio: ``t0 <= timestamp < t0 + window_hours``;
- CUPED pre-period: ``t0 - window_hours <= timestamp < t0``;
- retention day N: ``t0 + N days <= timestamp < t0 + (N + 1) days``, and the column is NULL
  for units whose day N has not fully elapsed at the snapshot's ``as_of`` time.

``METRIC_TYPES`` declares, for each metric type, its per-unit columns (name, SQL expression,
the name of its winsorization cap, the statistics field of its shift) and the per-variant sums
over them (the statistics field each one feeds, and its SQL). The unit table, the caps, the
shifts, the per-variant SELECT list and the parsing of its rows (``sums.py``) are all derived
from that declaration.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from analysis.engine.stats import MeanStats, ProportionStats, RatioStats

from .dialect import event_value, lit
from .source import Source

DAY = 86_400


@dataclass
class MetricSpec:
    """One metric as the aggregation sees it (plain values, no ORM objects)."""

    index: int
    key: str
    type: str
    role: str
    event: str = ""
    value_field: str | None = None
    numerator: dict[str, Any] | None = None
    denominator: dict[str, Any] | None = None
    window_hours: int = 168
    retention_day: int | None = None
    winsorize_percentile: float | None = None
    higher_is_better: bool = True
    cuped: bool = False
    name: str = ""

    @property
    def prefix(self) -> str:
        return f"m{self.index}"

    @property
    def window_seconds(self) -> int:
        return int(self.window_hours) * 3600

    def events(self) -> set[str]:
        if self.type == "ratio":
            return {p["event"] for p in (self.numerator or {}, self.denominator or {}) if p}
        return {self.event}

    def post_span(self) -> int:
        """Seconds after exposure this metric looks at."""
        if self.type == "retention":
            return (int(self.retention_day or 1) + 1) * DAY
        return self.window_seconds

    def pre_span(self) -> int:
        """Seconds before exposure this metric looks at (CUPED)."""
        return self.window_seconds if self.cuped else 0


@dataclass(frozen=True)
class UnitContext:
    """What a per-unit column expression is built from."""

    src: Source
    as_of: dt.datetime


# (context, metric) -> the per-unit aggregate expression, in canonical SQL (``dialect.py``).
ColumnExpr = Callable[[UnitContext, MetricSpec], str]


@dataclass(frozen=True)
class Column:
    """One per-unit column of a metric type.

    ``name`` is the column's suffix in the unit table (``m<i>_<name>``) and the placeholder
    that sum expressions use for it; ``cap`` is the key of its winsorization cap in the
    snapshot inputs (``metrics[].caps``), ``None`` for a column that is never capped;
    ``cuped_only`` columns exist only when the metric is analysed with CUPED; ``shift`` names
    the statistics field that carries the column's shift (``MeanStats.shift``, ...): the sums
    over a shifted column are of (value - shift), see ``sums.py``. ``None``: never shifted
    (0/1 flags and ratio denominators).
    """

    name: str
    expr: ColumnExpr
    cap: str | None = None
    cuped_only: bool = False
    shift: str | None = None


@dataclass(frozen=True)
class Sum:
    """One per-variant aggregate over the unit table and the statistics field it feeds.

    ``sql`` (canonical SQL) refers to the metric's columns as ``{y}``, ``{x}``, ``{num}``,
    ``{den}`` (each replaced by the column, capped when the metric is winsorized). A sum over
    a column the metric does not have (``{x}`` without CUPED) is left out, and its field keeps
    the statistics class's default. A field named ``n`` replaces the unit count (retention
    counts only mature units; the others are reported as immature).
    """

    field: str
    sql: str

    @property
    def columns(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.sql) if name}


@dataclass(frozen=True)
class MetricType:
    stats: type[ProportionStats] | type[MeanStats] | type[RatioStats]
    columns: tuple[Column, ...]
    sums: tuple[Sum, ...]


def _between(c: UnitContext, low: int, high: int) -> str:
    ts = f"VERDICT_TS({c.src.ev.timestamp})"
    t0 = c.src.u.first_exposed_at
    return f"{ts} >= VERDICT_SHIFT({t0}, {int(low)}) AND {ts} < VERDICT_SHIFT({t0}, {int(high)})"


def _flag(c: UnitContext, event: str, low: int, high: int) -> str:
    """1 when the unit has an ``event`` in ``[t0 + low, t0 + high)``, else 0."""
    return (
        f"MAX(CASE WHEN {c.src.ev.event} = {lit(event)} AND {_between(c, low, high)}"
        " THEN 1 ELSE 0 END)"
    )


def _total(c: UnitContext, event: str, value_field: str | None, low: int, high: int) -> str:
    """The sum of the unit's ``event`` values in ``[t0 + low, t0 + high)`` (0 without any)."""
    ev = c.src.ev
    value = event_value(value_field, value=ev.value, properties=ev.properties)
    return (
        f"COALESCE(SUM(CASE WHEN {ev.event} = {lit(event)} AND {_between(c, low, high)}"
        f" THEN {value} END), 0)"
    )


def _converted(c: UnitContext, m: MetricSpec) -> str:
    return _flag(c, m.event, 0, m.window_seconds)


def _value(c: UnitContext, m: MetricSpec) -> str:
    return _total(c, m.event, m.value_field, 0, m.window_seconds)


def _pre_value(c: UnitContext, m: MetricSpec) -> str:
    return _total(c, m.event, m.value_field, -m.window_seconds, 0)


def _part(which: str) -> ColumnExpr:
    def expr(c: UnitContext, m: MetricSpec) -> str:
        part = getattr(m, which) or {}
        return _total(c, part["event"], part.get("value_field"), 0, m.window_seconds)

    return expr


def _retained(c: UnitContext, m: MetricSpec) -> str:
    day = int(m.retention_day or 1)
    flag = _flag(c, m.event, day * DAY, (day + 1) * DAY)
    cutoff = c.as_of - dt.timedelta(days=day + 1)
    # MAX over the unit's rows (all of one exposure): every engine accepts it after GROUP BY.
    t0 = f"MAX(VERDICT_TS({c.src.u.first_exposed_at}))"
    return f"CASE WHEN {t0} <= {lit(cutoff)} THEN {flag} END"


def _sum(column: str) -> str:
    return f"COALESCE(SUM({{{column}}}), 0)"


def _product(a: str, b: str) -> str:
    return f"COALESCE(SUM({{{a}}} * {{{b}}}), 0)"


METRIC_TYPES: dict[str, MetricType] = {
    "conversion": MetricType(
        stats=ProportionStats,
        columns=(Column("y", _converted),),
        sums=(Sum("conversions", _sum("y")),),
    ),
    "retention": MetricType(
        stats=ProportionStats,
        columns=(Column("y", _retained),),
        sums=(Sum("n", "COUNT({y})"), Sum("conversions", _sum("y"))),
    ),
    "mean": MetricType(
        stats=MeanStats,
        columns=(
            Column("y", _value, cap="value", shift="shift"),
            Column("x", _pre_value, cap="pre", cuped_only=True, shift="pre_shift"),
        ),
        sums=(
            Sum("sum", _sum("y")),
            Sum("sum_squares", _product("y", "y")),
            Sum("pre_sum", _sum("x")),
            Sum("pre_sum_squares", _product("x", "x")),
            Sum("cross_sum", _product("y", "x")),
        ),
    ),
    "ratio": MetricType(
        stats=RatioStats,
        columns=(
            Column("num", _part("numerator"), cap="numerator", shift="numerator_shift"),
            Column("den", _part("denominator")),
        ),
        sums=(
            Sum("numerator_sum", _sum("num")),
            Sum("numerator_sum_squares", _product("num", "num")),
            Sum("denominator_sum", _sum("den")),
            Sum("denominator_sum_squares", _product("den", "den")),
            Sum("numerator_denominator_sum", _product("num", "den")),
        ),
    ),
}


def metric_type(m: MetricSpec) -> MetricType:
    try:
        return METRIC_TYPES[m.type]
    except KeyError:
        raise ValueError(f"unknown metric type {m.type!r}") from None


def metric_columns(m: MetricSpec) -> dict[str, str]:
    """The metric's per-unit columns: declared name -> column name in the unit table."""
    return {
        col.name: f"{m.prefix}_{col.name}"
        for col in metric_type(m).columns
        if m.cuped or not col.cuped_only
    }


def metric_sums(m: MetricSpec) -> tuple[Sum, ...]:
    """The metric's per-variant sums (those over columns it has)."""
    have = metric_columns(m)
    return tuple(s for s in metric_type(m).sums if s.columns <= have.keys())


@dataclass
class UnitColumns:
    """The per-unit SELECT list: aggregate expressions (canonical SQL) and their aliases."""

    names: list[str] = field(default_factory=list)
    exprs: list[str] = field(default_factory=list)

    def add(self, name: str, expr: str) -> None:
        self.names.append(name)
        self.exprs.append(f"{expr} AS {name}")


def unit_columns(c: UnitContext, metrics: list[MetricSpec]) -> UnitColumns:
    """The per-unit columns for ``metrics`` (see the module docstring for the windows)."""
    cols = UnitColumns()
    for m in metrics:
        names = metric_columns(m)
        for col in metric_type(m).columns:
            if col.name in names:
                cols.add(names[col.name], col.expr(c, m))
    return cols
