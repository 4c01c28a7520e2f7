"""Per-unit columns: what each metric needs from a unit's events, declared once per metric type.

One pass over the events joined to the exposed units computes, per unit, every column of every
metric of the experiment (``y`` the metric value, ``x`` its pre-exposure value for CUPED,
``num``/``den`` for ratios). The windows are relative to the unit's first exposure ``t0``:

- conversion, mean and ratio: ``t0 <= timestamp < t0 + window_hours``;
- CUPED pre-period: ``t0 - window_hours <= timestamp < t0``;
- retention day N: ``t0 + N days <= timestamp < t0 + (N + 1) days``, and the column is NULL
  for units whose day N has not fully elapsed at the snapshot's ``as_of`` time;
- count threshold, conditional mean and distinct days: the conversion window;
- a curve's point (``curves.py``): a retention curve's point ``[t0 + low, t0 + high)`` days
  (active: any of the ``activity`` events), a value curve's ``[t0, t0 + high)`` days; NULL for
  units exposed less than the point's ``mature_days`` before ``as_of``.

An event counts for a metric (or a ratio's part) when its name matches and its properties
match the metric's ``filter`` (``filters.py``; no filter: every event of the name).

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
from .filters import filter_sql
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
    filter: dict[str, Any] | None = None
    min_events: int | None = None
    among_converted: bool = False
    winsorize_percentile: float | None = None
    higher_is_better: bool = True
    cuped: bool = False
    name: str = ""
    activity: list[dict[str, Any]] | None = None
    horizon_days: int | None = None
    # A curve's point (``curves.expand_curves``): the curve's key, the point's name and index,
    # its days since exposure ``[low_day, high_day)`` and the days a unit needs to count.
    parent: str | None = None
    point: str | None = None
    point_index: int | None = None
    low_day: int = 0
    high_day: int = 0
    mature_days: int = 0

    @property
    def prefix(self) -> str:
        if self.point_index is not None:
            return f"m{self.index}_{self.point_index}"
        return f"m{self.index}"

    @property
    def shape(self) -> str:
        """The key of its declaration in ``METRIC_TYPES``: the type, for a count threshold
        among converted units its ratio form, and for a curve's point the point form."""
        if self.point is not None:
            return f"{self.type}_point"
        if self.type == "count_threshold" and self.among_converted:
            return "count_threshold_among_converted"
        return self.type

    @property
    def window_seconds(self) -> int:
        return int(self.window_hours) * 3600

    def events(self) -> set[str]:
        if self.type == "ratio":
            return {p["event"] for p in (self.numerator or {}, self.denominator or {}) if p}
        if self.type == "retention_curve":
            return {a["event"] for a in self.activity or []}
        return {self.event}

    def post_span(self) -> int:
        """Seconds after exposure this metric looks at."""
        if self.type == "retention":
            return (int(self.retention_day or 1) + 1) * DAY
        if self.point is not None:
            return self.high_day * DAY
        if self.type in ("retention_curve", "value_curve"):  # the widest point (``curves.py``)
            return (max(int(self.horizon_days or 30), 30) + 1) * DAY
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


def _matches(c: UnitContext, event: str, where: dict[str, Any] | None, low: int, high: int) -> str:
    """An event row counts: its name is ``event``, its properties match the filter ``where``
    and its time is in ``[t0 + low, t0 + high)``."""
    ev = c.src.ev
    condition = f"{ev.event} = {lit(event)} AND {_between(c, low, high)}"
    if where:
        condition += f" AND {filter_sql(where, ev.properties)}"
    return condition


def _flag(
    c: UnitContext, event: str, low: int, high: int, where: dict[str, Any] | None = None
) -> str:
    """1 when the unit has a matching ``event`` in ``[t0 + low, t0 + high)``, else 0."""
    return f"MAX(CASE WHEN {_matches(c, event, where, low, high)} THEN 1 ELSE 0 END)"


def _total(
    c: UnitContext,
    event: str,
    value_field: str | None,
    low: int,
    high: int,
    where: dict[str, Any] | None = None,
) -> str:
    """The sum of the unit's matching ``event`` values in ``[t0 + low, t0 + high)`` (0 without
    any)."""
    ev = c.src.ev
    value = event_value(value_field, value=ev.value, properties=ev.properties)
    return f"COALESCE(SUM(CASE WHEN {_matches(c, event, where, low, high)} THEN {value} END), 0)"


def _converted(c: UnitContext, m: MetricSpec) -> str:
    return _flag(c, m.event, 0, m.window_seconds, m.filter)


def _value(c: UnitContext, m: MetricSpec) -> str:
    return _total(c, m.event, m.value_field, 0, m.window_seconds, m.filter)


def _pre_value(c: UnitContext, m: MetricSpec) -> str:
    return _total(c, m.event, m.value_field, -m.window_seconds, 0, m.filter)


def _part(which: str) -> ColumnExpr:
    def expr(c: UnitContext, m: MetricSpec) -> str:
        part = getattr(m, which) or {}
        return _total(
            c, part["event"], part.get("value_field"), 0, m.window_seconds, part.get("filter")
        )

    return expr


def _count(c: UnitContext, m: MetricSpec) -> str:
    """The unit's matching events in the window."""
    return f"SUM(CASE WHEN {_matches(c, m.event, m.filter, 0, m.window_seconds)} THEN 1 ELSE 0 END)"


def _at_least(count: int | None) -> ColumnExpr:
    """1 when the unit has at least ``count`` matching events (None: the metric's
    ``min_events``) in the window, else 0."""

    def expr(c: UnitContext, m: MetricSpec) -> str:
        k = int(count or m.min_events or 1)
        return f"CASE WHEN {_count(c, m)} >= {k} THEN 1 ELSE 0 END"

    return expr


def _paid_value(c: UnitContext, m: MetricSpec) -> str:
    """The unit's value sum in the window when it is above 0, else 0 (a paying unit's
    revenue)."""
    value = _value(c, m)
    return f"CASE WHEN {value} > 0 THEN {value} ELSE 0 END"


def _paid(c: UnitContext, m: MetricSpec) -> str:
    """1 when the unit's value sum in the window is above 0 (a paying unit), else 0."""
    return f"CASE WHEN {_value(c, m)} > 0 THEN 1 ELSE 0 END"


def _active_days(c: UnitContext, m: MetricSpec) -> str:
    """The distinct UTC days of the unit's matching events in the window."""
    day = f"VERDICT_DAY({c.src.ev.timestamp})"
    return (
        f"COUNT(DISTINCT CASE WHEN {_matches(c, m.event, m.filter, 0, m.window_seconds)}"
        f" THEN {day} END)"
    )


def _retained(c: UnitContext, m: MetricSpec) -> str:
    day = int(m.retention_day or 1)
    return _mature(c, day + 1, _flag(c, m.event, day * DAY, (day + 1) * DAY, m.filter))


def _mature(c: UnitContext, days: int, value: str) -> str:
    """``value`` for units exposed at least ``days`` before ``as_of``, else NULL."""
    cutoff = c.as_of - dt.timedelta(days=days)
    # MAX over the unit's rows (all of one exposure): every engine accepts it after GROUP BY.
    t0 = f"MAX(VERDICT_TS({c.src.u.first_exposed_at}))"
    return f"CASE WHEN {t0} <= {lit(cutoff)} THEN {value} END"


def _active_in_point(c: UnitContext, m: MetricSpec) -> str:
    """A retention curve's point: 1 when the unit has any of the activity events in the
    point's days, 0 when not, NULL when the point's days have not passed."""
    low, high = m.low_day * DAY, m.high_day * DAY
    any_of = " OR ".join(
        f"({_matches(c, a['event'], a.get('filter'), low, high)})" for a in m.activity or []
    )
    return _mature(c, m.mature_days, f"MAX(CASE WHEN {any_of or '1 = 0'} THEN 1 ELSE 0 END)")


def _value_to_point(c: UnitContext, m: MetricSpec) -> str:
    """A value curve's point: the unit's value from exposure to the point's day, NULL when
    those days have not passed."""
    value = _total(c, m.event, m.value_field, 0, m.high_day * DAY, m.filter)
    return _mature(c, m.mature_days, value)


def _sum(column: str) -> str:
    return f"COALESCE(SUM({{{column}}}), 0)"


def _product(a: str, b: str) -> str:
    return f"COALESCE(SUM({{{a}}} * {{{b}}}), 0)"


_RATIO_SUMS = (
    Sum("numerator_sum", _sum("num")),
    Sum("numerator_sum_squares", _product("num", "num")),
    Sum("denominator_sum", _sum("den")),
    Sum("denominator_sum_squares", _product("den", "den")),
    Sum("numerator_denominator_sum", _product("num", "den")),
)

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
        sums=_RATIO_SUMS,
    ),
    # Units with at least k matching events, among all analysed units.
    "count_threshold": MetricType(
        stats=ProportionStats,
        columns=(Column("y", _at_least(None)),),
        sums=(Sum("conversions", _sum("y")),),
    ),
    # 复购率: units with at least k among units with at least one (a ratio of 0/1 flags).
    "count_threshold_among_converted": MetricType(
        stats=RatioStats,
        columns=(Column("num", _at_least(None)), Column("den", _at_least(1))),
        sums=_RATIO_SUMS,
    ),
    # ARPPU: the value over the units whose value is above 0 (a ratio of sums, delta method).
    "conditional_mean": MetricType(
        stats=RatioStats,
        columns=(
            Column("num", _paid_value, cap="numerator", shift="numerator_shift"),
            Column("den", _paid),
        ),
        sums=_RATIO_SUMS,
    ),
    "distinct_days": MetricType(
        stats=MeanStats,
        columns=(Column("y", _active_days, cap="value", shift="shift"),),
        sums=(Sum("sum", _sum("y")), Sum("sum_squares", _product("y", "y"))),
    ),
    # A point of a retention curve (``curves.py``): mature units active in the point's days.
    "retention_curve_point": MetricType(
        stats=ProportionStats,
        columns=(Column("y", _active_in_point),),
        sums=(Sum("n", "COUNT({y})"), Sum("conversions", _sum("y"))),
    ),
    # A point of a value curve: the value to date per mature unit.
    "value_curve_point": MetricType(
        stats=MeanStats,
        columns=(Column("y", _value_to_point, shift="shift"),),
        sums=(
            Sum("n", "COUNT({y})"),
            Sum("sum", _sum("y")),
            Sum("sum_squares", _product("y", "y")),
        ),
    ),
}


def metric_type(m: MetricSpec) -> MetricType:
    try:
        return METRIC_TYPES[m.shape]
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
