"""Per-unit columns: what each metric needs from a unit's events, as SQL aggregate expressions.

One pass over the events joined to the exposed units computes, per unit, every column of every
metric of the experiment (``y`` the metric value, ``x`` its pre-exposure value for CUPED,
``num``/``den`` for ratios). The windows are relative to the unit's first exposure ``t0``:

- conversion, mean and ratio: ``t0 <= timestamp < t0 + window_hours``;
- CUPED pre-period: ``t0 - window_hours <= timestamp < t0``;
- retention day N: ``t0 + N days <= timestamp < t0 + (N + 1) days``, and the column is NULL
  for units whose day N has not fully elapsed at the snapshot's ``as_of`` time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .dialect import Dialect

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


@dataclass
class UnitColumns:
    """The SELECT list (name -> aggregate expression) and its parameters, in order."""

    names: list[str] = field(default_factory=list)
    exprs: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, name: str, expr: str, params: list[Any]) -> None:
        self.names.append(name)
        self.exprs.append(f"{expr} AS {name}")
        self.params.extend(params)


def _between(d: Dialect, low: int, high: int) -> str:
    ts = d.ts("ev.timestamp")
    t0 = "u.first_exposed_at"
    return f"{ts} >= {d.shift(t0, low)} AND {ts} < {d.shift(t0, high)}"


def _flag(d: Dialect, event: str, low: int, high: int) -> tuple[str, list[Any]]:
    return f"MAX(CASE WHEN ev.event = %s AND {_between(d, low, high)} THEN 1 ELSE 0 END)", [event]


def _total(
    d: Dialect, event: str, value_field: str | None, low: int, high: int
) -> tuple[str, list[Any]]:
    value, params = d.event_value(value_field)
    expr = (
        f"COALESCE(SUM(CASE WHEN ev.event = %s AND {_between(d, low, high)} THEN {value} END), 0)"
    )
    return expr, [event, *params]


def unit_columns(d: Dialect, metrics: list[MetricSpec], as_of: dt.datetime) -> UnitColumns:
    """The per-unit columns for ``metrics`` (see the module docstring for the windows)."""
    cols = UnitColumns()
    for m in metrics:
        p, w = m.prefix, m.window_seconds
        if m.type == "conversion":
            cols.add(f"{p}_y", *_flag(d, m.event, 0, w))
        elif m.type == "mean":
            cols.add(f"{p}_y", *_total(d, m.event, m.value_field, 0, w))
            if m.cuped:
                cols.add(f"{p}_x", *_total(d, m.event, m.value_field, -w, 0))
        elif m.type == "ratio":
            num, den = m.numerator or {}, m.denominator or {}
            cols.add(f"{p}_num", *_total(d, num["event"], num.get("value_field"), 0, w))
            cols.add(f"{p}_den", *_total(d, den["event"], den.get("value_field"), 0, w))
        elif m.type == "retention":
            day = int(m.retention_day or 1)
            expr, params = _flag(d, m.event, day * DAY, (day + 1) * DAY)
            cutoff = as_of - dt.timedelta(days=day + 1)
            cols.add(
                f"{p}_y",
                f"CASE WHEN {d.ts('u.first_exposed_at')} <= %s THEN {expr} END",
                [d.time_param(cutoff), *params],
            )
        else:  # pragma: no cover - the metric model only allows the four types
            raise ValueError(f"unknown metric type {m.type!r}")
    return cols
