"""Simulated users and what they do: pure functions of a seeded ``random.Random`` (no Django).

Users arrive uniformly over the simulated days with attributes drawn from the scenario's
population. After exposure at ``t0`` a user of a variant:

- may open the app on day 0, day 1 and day 7 (``app_open``; chances ``d0``, ``d1``, ``d7``);
- has a latent propensity (gamma, mean 1) that scales the chance of a first purchase, so heavy
  buyers stay heavy buyers; returning users show it in a purchase in the 7 days *before*
  exposure too (what CUPED uses);
- buys first within the week (most in the first two days), then geometrically many repeat
  orders; each order's value is log-normal (a heavy tail: a few orders are many times the mean);
- may redeem a first-order coupon (``coupon_redeemed`` whose value is the discount) and ask for
  a refund.

Events after ``now`` have not happened yet and are left out.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .scenarios import Behaviour

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK_HOURS = 160.0  # every in-window order lands inside the 168-hour metric windows
PROPENSITY_SHAPE = 4.0


@dataclass(frozen=True, slots=True)
class SimEvent:
    event_id: str
    unit_id: str
    event: str
    timestamp: datetime
    value: float | None = None
    properties: dict[str, Any] | None = None

    def as_payload(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "event_id": self.event_id,
            "unit_id": self.unit_id,
            "event": self.event,
            "timestamp": self.timestamp.isoformat(),
        }
        if self.value is not None:
            item["value"] = self.value
        if self.properties:
            item["properties"] = self.properties
        return item


def draw_attributes(rng: random.Random, population: dict[str, dict[str, float]]) -> dict[str, Any]:
    """One user's attributes; ``"true"``/``"false"`` values become booleans."""
    attributes: dict[str, Any] = {}
    for name, weights in population.items():
        values = list(weights)
        value = rng.choices(values, weights=[weights[v] for v in values])[0]
        attributes[name] = {"true": True, "false": False}.get(value, value)
    return attributes


def _order_value(rng: random.Random, mean: float, sigma: float) -> float:
    # log-normal with the given mean: mu = ln(mean) - sigma^2 / 2
    return round(rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma), 2)


def user_events(
    *,
    rng: random.Random,
    unit_id: str,
    behaviour: Behaviour,
    t0: datetime,
    now: datetime,
    returning: bool,
    before: Behaviour | None = None,
) -> list[SimEvent]:
    """The events of one user exposed at ``t0`` (only those up to ``now``); ``before`` is how
    the user behaved before exposure (the control's behaviour: a variant acts from exposure
    on), ``behaviour`` when not given."""
    events: list[SimEvent] = []

    def add(name: str, at: datetime, value: float | None = None, **props: Any) -> None:
        if at <= now:
            eid = f"{unit_id}:{name}:{len(events)}"
            events.append(SimEvent(eid, unit_id, name, at, value, props or None))

    if behaviour.d0 >= 1 or rng.random() < behaviour.d0:
        add("app_open", t0 + rng.uniform(0, 30) * timedelta(seconds=60))
    if rng.random() < behaviour.d1:
        add("app_open", t0 + DAY + rng.uniform(0.01, 23.9) * HOUR)
    if rng.random() < behaviour.d7:
        add("app_open", t0 + 7 * DAY + rng.uniform(0.01, 23.9) * HOUR)

    propensity = rng.gammavariate(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE)
    chance = min(1.0, behaviour.purchase * propensity)
    past = before or behaviour
    if returning and rng.random() < min(1.0, past.purchase * propensity):
        value = _order_value(rng, past.order_value, past.value_sigma)
        add("purchase", t0 - rng.uniform(1, WEEK_HOURS) * HOUR, value, revenue=value)
    if rng.random() >= chance:
        return events
    first = min(rng.expovariate(1 / 30.0), WEEK_HOURS - 1) + rng.uniform(0, 1)
    orders = [first]
    while rng.random() < behaviour.repeat / (1 + behaviour.repeat):
        orders.append(rng.uniform(first, WEEK_HOURS))
    for index, hours in enumerate(sorted(orders)):
        at = t0 + hours * HOUR
        value = _order_value(rng, behaviour.order_value, behaviour.value_sigma)
        discount = behaviour.coupon if index == 0 else 0.0
        add("purchase", at, value, revenue=value, net_revenue=round(value - discount, 2))
        if discount:
            add("coupon_redeemed", at, discount, coupon="NEW10")
    if rng.random() < behaviour.refund:
        add("refund", t0 + (first + rng.uniform(1, 6)) * HOUR)
    return events
