"""Scenarios: who arrives, how each variant's users behave, and the true effect planted in each.

A scenario is plain data (loadable from JSON): the experiment it drives, the population users
are drawn from, the control's behaviour and, per variant, the **effects** planted on it:

- ``conversion``: relative change of the chance of a first purchase within 7 days (-0.10);
- ``revenue_per_user``: relative change of revenue per user (the order value moves by
  ``(1 + revenue_per_user) / (1 + conversion)``), or ``order_value``: relative change of the
  value of every order (give one of the two);
- ``d1_retention``, ``d7_retention``: absolute change in points of the chance of opening the
  app on day 1 or day 7 after exposure (0.02 is two points);
- ``refund``: relative change of the chance that a purchaser asks for a refund;
- ``coupon``: the discount on a first order (its cost is sent as the value of a
  ``coupon_redeemed`` event, and ``net_revenue`` on each purchase is revenue minus discount).

This module is pure (no Django): ``true_effect`` gives the relative effect a metric definition
should measure for a variant, from the behaviours alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

EFFECT_NAMES = (
    "conversion",
    "revenue_per_user",
    "order_value",
    "d1_retention",
    "d7_retention",
    "refund",
    "coupon",
)


@dataclass(frozen=True)
class Behaviour:
    """How one variant's users behave (probabilities per user, money in the app's currency)."""

    purchase: float = 0.05  # chance of a first purchase within 7 days of exposure
    order_value: float = 60.0  # mean value of one order
    value_sigma: float = 1.0  # log-normal spread of order values (heavy tail)
    repeat: float = 0.5  # expected extra orders per purchaser within 7 days
    d0: float = 1.0  # chance of opening the app on the day of exposure
    d1: float = 0.40  # chance of opening the app on day 1 after exposure
    d7: float = 0.20  # chance of opening the app on day 7 after exposure
    refund: float = 0.05  # chance that a purchaser asks for a refund
    coupon: float = 0.0  # discount on the first order

    @property
    def revenue_per_user(self) -> float:
        return self.purchase * (1 + self.repeat) * self.order_value

    @property
    def net_revenue_per_user(self) -> float:
        return self.purchase * ((1 + self.repeat) * self.order_value - self.coupon)


def behaviour_with(control: Behaviour, effects: dict[str, float]) -> Behaviour:
    """The control's behaviour with ``effects`` (see the module docstring) applied."""
    unknown = sorted(set(effects) - set(EFFECT_NAMES))
    if unknown:
        raise ValueError(f"Unknown effect(s) {unknown}; known: {', '.join(EFFECT_NAMES)}.")
    if "revenue_per_user" in effects and "order_value" in effects:
        raise ValueError("Give revenue_per_user or order_value, not both.")
    conversion = 1 + effects.get("conversion", 0.0)
    if "revenue_per_user" in effects:
        value = (1 + effects["revenue_per_user"]) / conversion
    else:
        value = 1 + effects.get("order_value", 0.0)
    changed = replace(
        control,
        purchase=control.purchase * conversion,
        order_value=control.order_value * value,
        d1=control.d1 + effects.get("d1_retention", 0.0),
        d7=control.d7 + effects.get("d7_retention", 0.0),
        refund=control.refund * (1 + effects.get("refund", 0.0)),
        coupon=effects.get("coupon", control.coupon),
    )
    for name in ("purchase", "d0", "d1", "d7", "refund"):
        if not 0 <= getattr(changed, name) <= 1:
            raise ValueError(f"The effects make {name} {getattr(changed, name):.3f}, not in 0-1.")
    return changed


@dataclass(frozen=True)
class Scenario:
    experiment: str
    description: str
    control: Behaviour
    effects: dict[str, dict[str, float]]  # variant key -> planted effects
    population: dict[str, dict[str, float]] = field(default_factory=dict)  # attr -> value weights

    def behaviour(self, variant: str) -> Behaviour:
        return behaviour_with(self.control, self.effects.get(variant, {}))


# The attributes the demo's targeting reads. Each attribute is a segment of every snapshot, and
# the segments are most of a refresh's cost, so each demo scenario draws two at most: the one
# its targeting reads and the platform (a user without ``is_new_user`` counts as returning).
DEFAULT_POPULATION: dict[str, dict[str, float]] = {
    "platform": {"ios": 0.45, "android": 0.4, "web": 0.15},
    "country": {"CN": 0.55, "SG": 0.25, "MY": 0.1, "US": 0.1},
    "is_new_user": {"true": 0.6, "false": 0.4},
}


def _population(**overrides: dict[str, float]) -> dict[str, dict[str, float]]:
    return {**DEFAULT_POPULATION, **overrides}


# Scenarios whose metrics read purchases only send no app opens (d0 = d1 = d7 = 0): the demo
# stores the events its metrics read, so its hundreds of thousands of users load quickly.
NO_OPENS: dict[str, float] = {"d0": 0.0, "d1": 0.0, "d7": 0.0}

SCENARIOS: dict[str, Scenario] = {
    "pricing-pro-tier": Scenario(
        experiment="pricing-pro-tier",
        description="Pro at 39 instead of 29: paid conversion -10% relative, revenue per user +8%.",
        control=Behaviour(purchase=0.15, order_value=45.0, value_sigma=0.3, repeat=0.1, **NO_OPENS),
        effects={"pro39": {"conversion": -0.10, "revenue_per_user": 0.08}},
        population={
            "platform": DEFAULT_POPULATION["platform"],
            "country": {"CN": 0.6, "SG": 0.3, "US": 0.1},
        },
    ),
    "onboarding-checklist": Scenario(
        experiment="onboarding-checklist",
        description="A checklist instead of the tour: D7 retention +2 points.",
        control=Behaviour(purchase=0.04, d0=0.0, d1=0.45, d7=0.25),
        effects={"checklist": {"d7_retention": 0.02}},
        population={
            "platform": DEFAULT_POPULATION["platform"],
            "is_new_user": {"true": 0.9, "false": 0.1},
        },
    ),
    "new-user-coupon": Scenario(
        experiment="new-user-coupon",
        description=(
            "NEW10 (10 off the first order): first-order conversion +25% relative, order value "
            "-12%, purchasers ask for refunds 40% more often; the discount is the value of a "
            "coupon_redeemed event."
        ),
        control=Behaviour(purchase=0.06, order_value=70.0, repeat=0.3, **NO_OPENS),
        effects={
            "new10": {"conversion": 0.25, "order_value": -0.12, "refund": 0.4, "coupon": 10.0}
        },
        population={
            "platform": {"ios": 0.5, "android": 0.45, "web": 0.05},
            "is_new_user": {"true": 0.9, "false": 0.1},
        },
    ),
    "checkout-aa": Scenario(
        experiment="checkout-aa",
        description="A/A: both arms identical, no true difference.",
        control=Behaviour(purchase=0.06, order_value=55.0, **NO_OPENS),
        effects={},
        population={"platform": DEFAULT_POPULATION["platform"]},
    ),
    "express-checkout": Scenario(
        experiment="express-checkout",
        description=(
            "One-tap payment: paid conversion +3% relative, but a payment bug makes purchasers "
            "ask for refunds three times as often."
        ),
        control=Behaviour(purchase=0.06, order_value=55.0, **NO_OPENS),
        effects={"one_tap": {"conversion": 0.03, "refund": 2.0}},
        population={"platform": DEFAULT_POPULATION["platform"]},
    ),
}


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """A scenario from JSON-like data: ``{"experiment": ..., "control": {...behaviour},
    "effects": {variant: {effect: number}}, "population": {attr: {value: weight}}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("experiment"), str):
        raise ValueError('A scenario is an object with an "experiment" key.')
    control = data.get("control", {})
    known = set(Behaviour.__dataclass_fields__)
    if not isinstance(control, dict) or set(control) - known:
        raise ValueError(f'"control" takes the behaviour fields {sorted(known)}.')
    effects = data.get("effects", {})
    if not isinstance(effects, dict):
        raise ValueError('"effects" maps each variant key to its effects.')
    scenario = Scenario(
        experiment=data["experiment"],
        description=str(data.get("description", "")),
        control=Behaviour(**{k: float(v) for k, v in control.items()}),
        effects={str(k): {e: float(x) for e, x in v.items()} for k, v in effects.items()},
        population=_population(**data.get("population", {})),
    )
    for variant in scenario.effects:
        scenario.behaviour(variant)  # raises ValueError on a bad effect
    return scenario


def scenario_load(path: str | Path) -> Scenario:
    return scenario_from_dict(json.loads(Path(path).read_text()))


def _ratio(treatment: float, control: float) -> float | None:
    return None if control == 0 else treatment / control - 1


def true_effect(metric: dict[str, Any], control: Behaviour, variant: Behaviour) -> float | None:
    """The relative effect ``metric`` (a definition as stored: type, event, value_field,
    numerator, denominator, retention_day) measures between the two behaviours; None when the
    simulator does not model it, the control's value is 0, the metric is winsorized (capping
    changes what it measures: with few purchasers the cap falls inside the purchases) or its
    events are filtered (the simulated events carry no properties to filter on)."""
    if metric.get("winsorize_percentile") or metric.get("filter"):
        return None
    kind = metric.get("type")
    event = metric.get("event")
    if kind == "conversion":
        rates = {
            "purchase": lambda b: b.purchase,
            "refund": lambda b: b.purchase * b.refund,
            "coupon_redeemed": lambda b: b.purchase * (b.coupon > 0),
        }
        if event in rates:
            return _ratio(rates[event](variant), rates[event](control))
    if kind == "mean" and event == "purchase":
        field_ = metric.get("value_field")
        if field_ in ("revenue", "value", None):
            return _ratio(variant.revenue_per_user, control.revenue_per_user)
        if field_ == "net_revenue":
            return _ratio(variant.net_revenue_per_user, control.net_revenue_per_user)
    paid = metric.get("value_field") in ("revenue", "value", None)
    if kind == "conditional_mean" and event == "purchase" and paid:
        # Revenue per paying user: the first order and the expected extra ones.
        per_buyer = [(1 + b.repeat) * b.order_value for b in (variant, control)]
        return _ratio(*per_buyer)
    if kind == "count_threshold" and event == "purchase" and metric.get("min_events") == 2:
        # Extra orders are geometric: a buyer buys again with chance repeat / (1 + repeat).
        again = [b.repeat / (1 + b.repeat) for b in (variant, control)]
        if metric.get("among_converted"):
            return _ratio(*again)
        return _ratio(variant.purchase * again[0], control.purchase * again[1])
    if kind == "mean" and event == "coupon_redeemed":
        return _ratio(variant.purchase * variant.coupon, control.purchase * control.coupon)
    if kind == "ratio":
        num, den = metric.get("numerator") or {}, metric.get("denominator") or {}
        if num.get("event") == "purchase" and den == {"event": "purchase", "value_field": None}:
            if num.get("value_field") == "net_revenue":
                per_order = [b.order_value - b.coupon / (1 + b.repeat) for b in (variant, control)]
                return _ratio(*per_order)
            return _ratio(variant.order_value, control.order_value)
    if kind == "retention" and event == "app_open":
        day = metric.get("retention_day")
        if day in (1, 7):
            attr = "d1" if day == 1 else "d7"
            return _ratio(getattr(variant, attr), getattr(control, attr))
    return None
