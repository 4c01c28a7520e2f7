"""Segments from each unit's history before its first exposure (canonical SQL).

An experiment chooses them in ``Experiment.history_segments`` (``experiments.history_segments``
checks the configuration). Over the per-unit table (``query.unit_select``), each unit's events
in the ``days`` before its first exposure ``t0`` (``t0 - days <= time < t0``) give:

- ``n_hist``: the events in the look-back (any event name): the **frequency**;
- ``last_day``: the UTC day of the newest of them; **recency** is ``day(t0) - last_day`` in
  whole UTC days (0: an event earlier the same day);
- ``spend``: the sum of ``value_field`` (else the event's value) over the ``value_event``
  events in the look-back: the **monetary** value.

Tiers are tertiles over the experiment's analysed units that have history (spend tiers: over
the units with spend > 0), cut the same way on every engine and with ties kept together: a
unit's tier comes from the number ``b`` of those units with a strictly lower score among
``n``: ``low`` when ``3b < n``, ``mid`` when ``3b < 2n``, else ``high`` (``RANK() - 1`` is ``b``).
A recent event scores high on R, more events high on F, more spend high on M.

The segments, as ``(attribute, value)`` like the attribute segments (``segments.py``), so the
per-segment sums, SRM, report tabs and the Spark engine follow unchanged:

- ``history:new_vs_returning``: ``new`` (no event in the look-back) or ``returning``; an
  exposure attribute named by ``new_attribute`` decides first when it is ``true``/``"new"`` or
  ``false``/``"returning"``;
- ``history:rfm``: ``<r>.<f>.<m>`` with each of ``low``/``mid``/``high`` (``high.mid.low`` reads
  "R high · F mid · M low"), or ``no_history``;
- ``history:rfm_group``: the compact version: ``at_risk`` when R is low (their last event is
  among the oldest third), else ``champions`` when F and M are both at least mid and one of
  them high, else ``regulars``; ``no_history`` as above;
- ``history:spend_tier``: ``low``/``mid``/``high`` tertiles of spend, or ``no_spend``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from assignment.tables import EventTable, ExposureTable
from experiments.history_segments import (
    DEFAULT_DAYS,
    NEW_VS_RETURNING,
    RFM,
    SPEND_TIER,
    history_config,
)

from .columns import MetricSpec
from .dialect import event_value, lit, qualify
from .query import Row, Runner, variant_rows, variant_sums_sql
from .source import exposures_as

PREFIX = "history:"
NEW_VS_RETURNING_ATTR = PREFIX + NEW_VS_RETURNING
RFM_ATTR = PREFIX + RFM
RFM_GROUP_ATTR = PREFIX + "rfm_group"
SPEND_TIER_ATTR = PREFIX + SPEND_TIER
NO_HISTORY = "no_history"
NO_SPEND = "no_spend"
TIERS = ("low", "mid", "high")
RFM_GROUPS = ("champions", "regulars", "at_risk")
# The dimensions each kind adds, in report order.
DIMENSIONS = {
    NEW_VS_RETURNING: (NEW_VS_RETURNING_ATTR,),
    RFM: (RFM_ATTR, RFM_GROUP_ATTR),
    SPEND_TIER: (SPEND_TIER_ATTR,),
}


@dataclass(frozen=True)
class HistorySpec:
    """What to compute: the kinds, the look-back in days, what spend is, and the optional
    exposure attribute that says new or returning."""

    kinds: tuple[str, ...]
    days: int = DEFAULT_DAYS
    value_event: str = ""
    value_field: str = ""
    new_attribute: str = ""
    # The event names "any event" stands for, when the engine needs them spelled out: SQLite
    # (no hash join) finds a unit's events through the (event, unit_id, timestamp) index only
    # with a name; without one, each unit would scan every event. None: any name.
    event_names: tuple[str, ...] | None = None

    @property
    def attributes(self) -> tuple[str, ...]:
        """The segment dimensions (``attribute`` of each segment) these kinds give."""
        return tuple(a for k in self.kinds for a in DIMENSIONS[k])


def history_spec(config: Any) -> HistorySpec | None:
    """The spec of an experiment's ``history_segments`` (None when it asks for none)."""
    c = history_config(config)
    if not c:
        return None
    return HistorySpec(
        kinds=tuple(c["kinds"]),
        days=int(c["days"]),
        value_event=c.get("value_event", ""),
        value_field=c.get("value_field", ""),
        new_attribute=c.get("new_attribute", ""),
    )


def _tier(rank: str, n: str) -> str:
    return (
        f"CASE WHEN 3 * ({rank} - 1) < {n} THEN 'low'"
        f" WHEN 3 * ({rank} - 1) < 2 * {n} THEN 'mid' ELSE 'high' END"
    )


def history_units_sql(
    exposures: ExposureTable, events: EventTable, table: str, spec: HistorySpec
) -> str:
    """The per-unit table with each unit's history columns and tiers (canonical SQL): ``t.*``
    and ``n_hist``, ``recency`` (days), ``spend``, ``attr_new`` (1 new, 0 returning, NULL
    unknown), ``r_tier``, ``f_tier``, ``m_tier`` and ``s_tier`` (NULL without history or
    spend)."""
    x = exposures_as(exposures, "x")
    ev = qualify(events, "ev")
    ts_ev, ts_t0 = f"VERDICT_TS({ev.timestamp})", f"VERDICT_TS({x.first_exposed_at})"
    value = event_value(spec.value_field or "value", value=ev.value, properties=ev.properties)
    spend = (
        f"SUM(CASE WHEN {ev.event} = {lit(spec.value_event)} THEN {value} END)"
        if spec.value_event
        else "CAST(NULL AS DOUBLE)"
    )
    names = ""
    if spec.event_names is not None:
        listed = ", ".join(lit(n) for n in spec.event_names) or "NULL"
        names = f" AND {ev.event} IN ({listed})"
    per_unit = (
        f"SELECT t.exposure_id AS hid, COUNT({ev.event}) AS n_hist,"
        f" MAX(VERDICT_DAY({ev.timestamp})) AS last_day, {spend} AS spend"
        f" FROM {table} AS t JOIN {x.table} AS x ON {x.id} = t.exposure_id"
        f" LEFT JOIN {ev.table} AS ev ON {ev.unit_id} = {x.unit_id}{names} AND {ts_ev} < {ts_t0}"
        f" AND {ts_ev} >= VERDICT_SHIFT({x.first_exposed_at}, {-86400 * spec.days})"
        " GROUP BY t.exposure_id"
    )
    attr_new = "CAST(NULL AS INT)"
    if spec.new_attribute:
        key = lit(spec.new_attribute)
        kind = f"VERDICT_JSON_TYPE({x.attributes}, {key})"
        text = f"VERDICT_JSON_TEXT({x.attributes}, {key})"
        attr_new = (
            f"CASE WHEN {kind} = 'true' OR {text} = 'new' THEN 1"
            f" WHEN {kind} = 'false' OR {text} = 'returning' THEN 0 END"
        )
    hist = "CASE WHEN h.n_hist > 0 THEN 1 ELSE 0 END"
    paid = "CASE WHEN COALESCE(h.spend, 0) > 0 THEN 1 ELSE 0 END"
    featured = (
        f"SELECT t.*, h.n_hist AS n_hist,"
        f" VERDICT_DAY({x.first_exposed_at}) - h.last_day AS recency,"
        f" COALESCE(h.spend, CAST(0 AS DOUBLE)) AS spend, {attr_new} AS attr_new,"
        f" {hist} AS has_hist, {paid} AS has_spend,"
        f" RANK() OVER (PARTITION BY {hist} ORDER BY VERDICT_DAY({x.first_exposed_at})"
        " - h.last_day DESC) AS r_rank,"
        f" RANK() OVER (PARTITION BY {hist} ORDER BY h.n_hist) AS f_rank,"
        f" RANK() OVER (PARTITION BY {hist} ORDER BY COALESCE(h.spend, 0)) AS m_rank,"
        f" RANK() OVER (PARTITION BY {paid} ORDER BY COALESCE(h.spend, 0)) AS s_rank,"
        f" COUNT(*) OVER (PARTITION BY {hist}) AS n_with,"
        f" COUNT(*) OVER (PARTITION BY {paid}) AS n_paid"
        f" FROM {table} AS t JOIN ({per_unit}) AS h ON h.hid = t.exposure_id"
        f" JOIN {x.table} AS x ON {x.id} = t.exposure_id"
    )
    return (
        "SELECT f.*,"
        f" CASE WHEN f.has_hist = 1 THEN {_tier('f.r_rank', 'f.n_with')} END AS r_tier,"
        f" CASE WHEN f.has_hist = 1 THEN {_tier('f.f_rank', 'f.n_with')} END AS f_tier,"
        f" CASE WHEN f.has_hist = 1 THEN {_tier('f.m_rank', 'f.n_with')} END AS m_tier,"
        f" CASE WHEN f.has_spend = 1 THEN {_tier('f.s_rank', 'f.n_paid')} END AS s_tier"
        f" FROM ({featured}) AS f"
    )


def _value_sql(attribute: str) -> str:
    """The segment value of one dimension, over ``history_units_sql``'s columns as ``t``."""
    if attribute == NEW_VS_RETURNING_ATTR:
        return (
            "CASE WHEN t.attr_new = 1 THEN 'new' WHEN t.attr_new = 0 THEN 'returning'"
            " WHEN t.has_hist = 1 THEN 'returning' ELSE 'new' END"
        )
    if attribute == RFM_ATTR:
        return (
            f"CASE WHEN t.has_hist = 1 THEN t.r_tier || '.' || t.f_tier || '.' || t.m_tier"
            f" ELSE {lit(NO_HISTORY)} END"
        )
    if attribute == RFM_GROUP_ATTR:
        score = (
            "(CASE t.f_tier WHEN 'high' THEN 3 WHEN 'mid' THEN 2 ELSE 1 END"
            " + CASE t.m_tier WHEN 'high' THEN 3 WHEN 'mid' THEN 2 ELSE 1 END)"
        )
        return (
            f"CASE WHEN t.has_hist = 0 THEN {lit(NO_HISTORY)}"
            " WHEN t.r_tier = 'low' THEN 'at_risk'"
            f" WHEN t.f_tier <> 'low' AND t.m_tier <> 'low' AND {score} >= 5 THEN 'champions'"
            " ELSE 'regulars' END"
        )
    if attribute == SPEND_TIER_ATTR:
        return f"CASE WHEN t.has_spend = 1 THEN t.s_tier ELSE {lit(NO_SPEND)} END"
    raise ValueError(f"no history segment {attribute!r}")


def history_sums_sql(
    exposures: ExposureTable,
    events: EventTable,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    spec: HistorySpec,
) -> str:
    """The per-history-segment, per-variant sums (canonical SQL): one row per (dimension,
    segment value, variant), the dimensions crossed in from a small derived table so the
    units' history is read once."""
    dims = " UNION ALL ".join(f"SELECT {lit(a)} AS k" for a in spec.attributes)
    value = "CASE d.k " + " ".join(f"WHEN {lit(a)} THEN {_value_sql(a)}" for a in spec.attributes)
    return variant_sums_sql(
        f"({history_units_sql(exposures, events, table, spec)})",
        metrics,
        caps,
        shifts,
        groups=["d.k", f"{value} END"],
        from_sql=f"CROSS JOIN ({dims}) AS d",
    )


def history_sums(
    runner: Runner,
    exposures: ExposureTable,
    events: EventTable,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    spec: HistorySpec | None,
) -> list[Row]:
    """Rows of ((dimension, segment value, variant id), units, {metric: (stats, immature)}),
    the shape of ``segments.segment_sums``; [] without a spec."""
    if spec is None or not metrics:
        return []
    if runner.dialect.sqlite and spec.event_names is None:
        spec = replace(spec, event_names=event_names(runner, events))
    sql = history_sums_sql(exposures, events, table, metrics, caps, shifts, spec)
    return variant_rows(runner, sql, metrics, shifts, groups=2)


def event_names(runner: Runner, events: EventTable) -> tuple[str, ...]:
    """Every event name stored (read from the name index's leading column)."""
    ev = qualify(events, "ev")
    _, rows = runner.rows(f"SELECT DISTINCT {ev.event} AS name FROM {ev.table} AS ev")
    return tuple(sorted(str(r[0]) for r in rows if r[0] is not None))


def history_tiers_sql(
    exposures: ExposureTable, events: EventTable, table: str, spec: HistorySpec
) -> str:
    """Each analysed unit's history values and segments (for tests and exports: one row per
    unit): ``exposure_id``, ``n_hist``, ``recency``, ``spend`` and one column per dimension."""
    cols = ", ".join(f"{_value_sql(a)} AS {a.removeprefix(PREFIX)}" for a in spec.attributes)
    return (
        f"SELECT t.exposure_id AS exposure_id, t.n_hist AS n_hist, t.recency AS recency,"
        f" t.spend AS spend, {cols}"
        f" FROM ({history_units_sql(exposures, events, table, spec)}) AS t"
    )
