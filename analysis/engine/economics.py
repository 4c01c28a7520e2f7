"""Economics of pricing and promotion experiments, from a snapshot's typed results (pure).

No Django: inputs are the typed results and snapshot inputs (``analysis.engine.contract``), the
experiment's metric definitions as plain ``MetricDefinition`` values and the variants' JSON
payloads. Three parts (formulas in docs/analysis.md, "Economics"):

- **scaled impact**: conversions and revenue per 1,000 exposed users, per variant
  (1,000 · x̄ ± z·1,000·SE, SE from the arm's sufficient statistics), and the difference
  against the control (1,000 · the engine's absolute effect and absolute interval);
- **price break-even** (pricing): with r = p_variant / p_control, revenue per exposed user is
  unchanged when conversion changes by 1/r − 1 (relative), set against the observed relative
  change of conversion and its interval;
- **net revenue after cost** (promotion): revenue per user minus the promotion's cost per
  user, from a net-revenue metric when the experiment has one (its interval is the engine's),
  else revenue minus cost with a conservative interval (the snapshot holds no covariance
  between two metrics; Var(R̄ − C̄) ≤ (SE_R + SE_C)² for any correlation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats as sps

from analysis.engine.contract import MetricResult, Results, SnapshotInputs, VariantResult
from analysis.engine.stats.inputs import MeanStats, ProportionStats
from analysis.engine.stats.moments import arm_moments

PER = 1000
MIN_DAYS = 1.0  # running time before the exposed users a day are stated
KINDS = ("pricing", "promotion")
COST_WORDS = ("cost", "coupon", "discount", "red_packet", "redpacket", "subsidy", "voucher")
REVENUE_FIELDS = ("revenue", "value", "amount", "gmv")

# Values of ``BreakEven.verdict``.
ABOVE, BELOW, UNCLEAR = "above", "below", "unclear"
# Values of ``Estimate.tone`` (for differences): the interval's side of zero.
BETTER, WORSE, INCONCLUSIVE = "better", "worse", "inconclusive"
# Values of ``BreakEven.price_source`` and ``NetRevenue.method``.
PAYLOAD, REVENUE_PER_CONVERTER = "payload", "revenue_per_converter"
NET_METRIC, REVENUE_MINUS_COST = "net_metric", "revenue_minus_cost"


@dataclass(frozen=True)
class MetricDefinition:
    """What the economics needs to know of a metric definition (``experiments.Metric``)."""

    key: str
    name: str
    type: str
    event: str = ""
    value_field: str = ""
    higher_is_better: bool = True


@dataclass(frozen=True)
class Estimate:
    """A value with its interval (``low``/``high`` None when no standard error is known)."""

    value: float
    low: float | None = None
    high: float | None = None

    def scaled(self, factor: float) -> Estimate:
        low = None if self.low is None else self.low * factor
        high = None if self.high is None else self.high * factor
        if factor < 0 and low is not None and high is not None:
            low, high = high, low
        return Estimate(self.value * factor, low, high)

    @property
    def tone(self) -> str:
        """``better`` when the interval lies above zero, ``worse`` below, else inconclusive."""
        if self.low is not None and self.low > 0:
            return BETTER
        if self.high is not None and self.high < 0:
            return WORSE
        return INCONCLUSIVE


@dataclass(frozen=True)
class VariantImpact:
    """Per 1,000 exposed users: one variant's conversions, revenue and net revenue, and the
    differences against the control (None for the control itself)."""

    variant: str
    name: str
    is_control: bool
    conversions: Estimate | None
    revenue: Estimate | None
    net_revenue: Estimate | None
    conversions_diff: Estimate | None = None
    revenue_diff: Estimate | None = None
    net_revenue_diff: Estimate | None = None
    revenue_diff_daily: Estimate | None = None
    net_revenue_diff_daily: Estimate | None = None


@dataclass(frozen=True)
class BreakEven:
    """A price test's break-even conversion change against the observed one (relative)."""

    variant: str
    name: str
    control_price: float
    variant_price: float
    price_source: str
    price_path: str | None
    ratio: float
    break_even: float
    observed: Estimate | None
    verdict: str

    @property
    def higher_price(self) -> bool:
        return self.ratio > 1


@dataclass(frozen=True)
class NetRevenue:
    """Net revenue per exposed user after the promotion's cost, for one variant."""

    variant: str
    name: str
    is_control: bool
    net: Estimate
    cost: Estimate | None
    diff: Estimate | None


@dataclass(frozen=True)
class Economics:
    kind: str
    alpha: float
    units: int
    days: float | None
    daily_users: float | None
    conversion_metric: str | None
    revenue_metric: str | None
    net_metric: str | None
    cost_metric: str | None
    impacts: tuple[VariantImpact, ...]
    break_even: tuple[BreakEven, ...]
    net_method: str | None
    net: tuple[NetRevenue, ...]
    per: int = PER


# -- which metric is which --------------------------------------------------------------


def _words(m: MetricDefinition) -> str:
    return " ".join((m.key, m.event, m.value_field)).lower()


def is_cost(m: MetricDefinition) -> bool:
    """A mean metric whose key, event or value field names a cost (coupon, discount...)."""
    return m.type == "mean" and any(w in _words(m) for w in COST_WORDS) and not is_net(m)


def is_net(m: MetricDefinition) -> bool:
    """A mean metric of revenue after cost: its value field or key says ``net``."""
    return m.type == "mean" and ("net" in m.value_field.lower() or m.key.lower().startswith("net"))


def _first(metrics: Sequence[MetricDefinition], test: Any) -> MetricDefinition | None:
    return next((m for m in metrics if test(m)), None)


def economic_metrics(
    metrics: Sequence[MetricDefinition],
) -> tuple[
    MetricDefinition | None,
    MetricDefinition | None,
    MetricDefinition | None,
    MetricDefinition | None,
]:
    """(conversion, revenue, net revenue, cost) among the experiment's metrics, in their order.

    Revenue is a mean metric (higher is better) on the conversion metric's event whose value
    field is revenue, value, amount or gmv; the conversion metric is the first conversion
    metric on a purchase event, else the first conversion metric."""
    conversions = [m for m in metrics if m.type == "conversion"]
    conversion = _first(conversions, lambda m: m.event == "purchase") or (
        conversions[0] if conversions else None
    )
    event = conversion.event if conversion else "purchase"
    revenue = _first(
        metrics,
        lambda m: (
            m.type == "mean"
            and m.higher_is_better
            and not is_net(m)
            and not is_cost(m)
            and m.event == event
            and (m.value_field or "value").lower() in REVENUE_FIELDS
        ),
    )
    return conversion, revenue, _first(metrics, is_net), _first(metrics, is_cost)


# -- per-arm moments --------------------------------------------------------------------


def _arm_se(inputs: SnapshotInputs | None, metric: str, variant: str) -> float | None:
    """Standard error of one arm's mean: √(σ²/n), σ² as the engine computes it (p(1 − p) for
    conversions, the unbiased sample variance for means); None without inputs or n < 2."""
    if inputs is None:
        return None
    m = next((x for x in inputs.metrics if x.metric == metric), None)
    stats = m.stats.get(variant) if m else None
    if not isinstance(stats, ProportionStats | MeanStats) or stats.n < 2:
        return None
    moments = arm_moments(stats)
    return math.sqrt(moments.variance / moments.n)


def _estimate(value: float, se: float | None, z: float) -> Estimate:
    if se is None:
        return Estimate(value)
    return Estimate(value, value - z * se, value + z * se)


def _diff(v: VariantResult | None) -> Estimate | None:
    if v is None or v.absolute_effect is None:
        return None
    low, high = v.absolute_ci or (None, None)
    return Estimate(v.absolute_effect, low, high)


def _rows(results: Results, key: str | None) -> dict[str, VariantResult]:
    metric: MetricResult | None = next((m for m in results.metrics if m.metric == key), None)
    return {v.variant: v for v in metric.variants} if metric else {}


def _arm(
    results: Results, inputs: SnapshotInputs | None, key: str | None, variant: str, z: float
) -> Estimate | None:
    row = _rows(results, key).get(variant)
    if key is None or row is None or row.mean is None:
        return None
    return _estimate(row.mean, _arm_se(inputs, key, variant), z)


# -- prices -----------------------------------------------------------------------------


def numeric_leaves(payload: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a JSON payload by its dotted path (booleans are not numbers)."""
    out: dict[str, float] = {}
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            out |= numeric_leaves(value, f"{prefix}{key}.")
    elif (
        isinstance(payload, int | float)
        and not isinstance(payload, bool)
        and math.isfinite(payload)
    ):
        out[prefix.rstrip(".")] = float(payload)
    return out


def payload_prices(control: Any, variant: Any) -> tuple[float, float, str] | None:
    """(control price, variant price, path) from the payloads: the one positive number under a
    key named ``*price*`` that differs between them, else the one positive number of any name
    that differs (the demo's ``plans.pro``: 29 → 39); None when there is not exactly one."""
    c, v = numeric_leaves(control), numeric_leaves(variant)
    differing = [p for p in c if p in v and c[p] != v[p] and c[p] > 0 and v[p] > 0]
    named = [p for p in differing if "price" in p.rsplit(".", 1)[-1].lower()]
    for paths in (named, differing):
        if len(paths) == 1:
            return c[paths[0]], v[paths[0]], paths[0]
    return None


def _verdict(observed: Estimate | None, break_even: float) -> str:
    if observed is None or observed.low is None or observed.high is None:
        return UNCLEAR
    if observed.low > break_even:
        return ABOVE
    if observed.high < break_even:
        return BELOW
    return UNCLEAR


def _break_even(
    results: Results,
    payloads: Mapping[str, Any],
    conversion: MetricDefinition | None,
    revenue: MetricDefinition | None,
) -> tuple[BreakEven, ...]:
    if conversion is None:
        return ()
    conv = _rows(results, conversion.key)
    arpu = _rows(results, revenue.key if revenue else None)
    control = next((v for v in conv.values() if v.is_control), None)
    if control is None:
        return ()
    out = []
    for row in conv.values():
        if row.is_control:
            continue
        found = payload_prices(payloads.get(control.variant), payloads.get(row.variant))
        source, path = PAYLOAD, None
        if found is not None:
            p_c, p_v, path = found
        else:
            per_converter = []
            for key in (control.variant, row.variant):
                rate, money = conv[key].mean, arpu.get(key).mean if key in arpu else None
                per_converter.append(money / rate if rate and money else None)
            if None in per_converter:
                continue
            p_c, p_v = per_converter  # type: ignore[misc]
            source = REVENUE_PER_CONVERTER
        ratio = p_v / p_c
        if math.isclose(ratio, 1.0):
            continue
        observed = None
        if row.effect is not None:
            low, high = row.ci or (None, None)
            observed = Estimate(row.effect, low, high)
        be = 1 / ratio - 1
        out.append(
            BreakEven(
                variant=row.variant,
                name=row.name,
                control_price=p_c,
                variant_price=p_v,
                price_source=source,
                price_path=path,
                ratio=ratio,
                break_even=be,
                observed=observed,
                verdict=_verdict(observed, be),
            )
        )
    return tuple(out)


# -- net revenue ------------------------------------------------------------------------


def _net(
    results: Results,
    inputs: SnapshotInputs | None,
    revenue: MetricDefinition | None,
    net: MetricDefinition | None,
    cost: MetricDefinition | None,
    z: float,
) -> tuple[str | None, tuple[NetRevenue, ...]]:
    variants = _rows(results, (net or revenue or cost).key if (net or revenue or cost) else None)
    if net is not None:
        net_rows = _rows(results, net.key)
        out = []
        for key, row in net_rows.items():
            value = _arm(results, inputs, net.key, key, z)
            if value is None:
                continue
            out.append(
                NetRevenue(
                    variant=key,
                    name=row.name,
                    is_control=row.is_control,
                    net=value,
                    cost=_arm(results, inputs, cost.key, key, z) if cost else None,
                    diff=None if row.is_control else _diff(row),
                )
            )
        return NET_METRIC, tuple(out)
    if revenue is None or cost is None:
        return None, ()
    rev_rows, cost_rows = _rows(results, revenue.key), _rows(results, cost.key)
    parts: dict[str, tuple[float, float | None, VariantResult]] = {}
    for key, row in variants.items():
        r, c = rev_rows.get(key), cost_rows.get(key)
        if r is None or c is None or r.mean is None or c.mean is None:
            continue
        se_r, se_c = _arm_se(inputs, revenue.key, key), _arm_se(inputs, cost.key, key)
        se = None if se_r is None or se_c is None else se_r + se_c  # Cauchy–Schwarz bound
        parts[key] = (r.mean - c.mean, se, row)
    control = next((k for k, (_, _, row) in parts.items() if row.is_control), None)
    out = []
    for key, (value, se, row) in parts.items():
        diff = None
        if control is not None and not row.is_control:
            c_value, c_se, _ = parts[control]
            both = None if se is None or c_se is None else math.hypot(se, c_se)
            diff = _estimate(value - c_value, both, z)
        out.append(
            NetRevenue(
                variant=key,
                name=row.name,
                is_control=row.is_control,
                net=_estimate(value, se, z),
                cost=_arm(results, inputs, cost.key, key, z),
                diff=diff,
            )
        )
    return REVENUE_MINUS_COST, tuple(out)


# -- the whole section ------------------------------------------------------------------


def _days(inputs: SnapshotInputs | None) -> float | None:
    if inputs is None or inputs.started_at_datetime is None:
        return None
    days = (inputs.as_of_datetime - inputs.started_at_datetime).total_seconds() / 86_400
    return days if days > 0 else None


def experiment_economics(
    *,
    kind: str,
    results: Results,
    inputs: SnapshotInputs | None,
    metrics: Sequence[MetricDefinition],
    payloads: Mapping[str, Any],
) -> Economics | None:
    """The Economics section of a pricing or promotion experiment's report, or None when the
    experiment is of another kind or has neither a conversion nor a revenue metric.

    ``payloads`` maps each variant key to its JSON payload; ``inputs`` (the snapshot's
    sufficient statistics) gives the per-arm standard errors and the days running, and may be
    None for snapshots whose inputs cannot be read (then the per-arm values have no interval).
    """
    if kind not in KINDS:
        return None
    conversion, revenue, net, cost = economic_metrics(metrics)
    if conversion is None and revenue is None and net is None:
        return None
    z = float(sps.norm.ppf(1 - results.plan.alpha / 2))
    days = _days(inputs)
    units = results.units.total
    # Under one day of running, a daily rate would be an extrapolation of minutes or hours.
    daily = units / days if days and days >= MIN_DAYS else None
    net_method, net_rows = (
        _net(results, inputs, revenue, net, cost, z) if kind == "promotion" else (None, ())
    )
    net_by_variant = {n.variant: n for n in net_rows}
    keys = conversion or revenue or net
    assert keys is not None
    impacts = []
    for key, row in _rows(results, keys.key).items():
        conv_row = _rows(results, conversion.key if conversion else None).get(key)
        rev_row = _rows(results, revenue.key if revenue else None).get(key)
        conv = _arm(results, inputs, conversion.key, key, z) if conversion else None
        rev = _arm(results, inputs, revenue.key, key, z) if revenue else None
        n = net_by_variant.get(key)
        conv_diff = None if row.is_control else _diff(conv_row)
        rev_diff = None if row.is_control else _diff(rev_row)
        net_diff = n.diff if n else None
        impacts.append(
            VariantImpact(
                variant=key,
                name=row.name,
                is_control=row.is_control,
                conversions=conv.scaled(PER) if conv else None,
                revenue=rev.scaled(PER) if rev else None,
                net_revenue=n.net.scaled(PER) if n else None,
                conversions_diff=conv_diff.scaled(PER) if conv_diff else None,
                revenue_diff=rev_diff.scaled(PER) if rev_diff else None,
                net_revenue_diff=net_diff.scaled(PER) if net_diff else None,
                revenue_diff_daily=rev_diff.scaled(daily) if rev_diff and daily else None,
                net_revenue_diff_daily=net_diff.scaled(daily) if net_diff and daily else None,
            )
        )
    return Economics(
        kind=kind,
        alpha=results.plan.alpha,
        units=units,
        days=days,
        daily_users=daily,
        conversion_metric=conversion.key if conversion else None,
        revenue_metric=revenue.key if revenue else None,
        net_metric=net.key if net else None,
        cost_metric=cost.key if cost else None,
        impacts=tuple(impacts),
        break_even=_break_even(results, payloads, conversion, revenue) if kind == "pricing" else (),
        net_method=net_method,
        net=net_rows,
    )
