"""The bulk simulator: many users at once, generated with numpy, stored in large batches.

Users arrive uniformly between two times, with attributes drawn from the scenario's
population. Each is assigned by the assign API's own decision (``assign_experiment`` on the
in-process definitions: overrides, targeting, layer, coverage and the hash), and behaves as
``traffic.py`` describes (the same distributions, drawn for a whole chunk of users at once).
Storage goes through ``assignment.services.bulk``, which applies the per-call rules (the
exposure row and repeated-unit flags, validation and the time window, deduplication by
``event_id``) in multi-row statements. ``store_per_call`` stores the same chunk call by call
(``exposures_record``, ``events_ingest`` in batches of 1,000): ``bench/simulate.py`` compares
the two and ``tests/simulation/test_bulk_store.py`` checks they store the same rows.

Events dated after ``now`` have not happened yet and are left out; 2% are sent again (same
``event_id``: duplicates); units never exposed send their events too. Event ids name the event
(``<unit>:open1``, ``<unit>:buy0``), so the same seed gives the same ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.utils import timezone

from assignment.definitions import definitions_get
from assignment.services.assign import Assignment, assign_experiment
from assignment.services.bulk import BulkExposure, events_ingest_bulk, exposures_record_bulk
from assignment.services.events import MAX_BATCH_EVENTS, IngestResult, events_ingest
from assignment.services.exposures import exposures_record
from experiments.models import Experiment

from .runner import RETRY_SHARE, Progress, SimulationResult, check_simulation
from .scenarios import Behaviour, Scenario
from .traffic import PROPENSITY_SHAPE, WEEK_HOURS

CHUNK_USERS = 25_000
HOUR = 3600.0
DAY = 86400.0


@dataclass
class SimChunk:
    """One chunk of simulated users: who they are, their answers and the events they send."""

    unit_ids: list[str]
    attributes: list[dict[str, Any]]
    answers: list[Assignment]
    arrivals: list[datetime]
    items: list[dict[str, Any]]  # events as the API takes them (retries included)
    retried: int
    unexposed_events: int


def _attribute_columns(
    rng: np.random.Generator, population: dict[str, dict[str, float]], n: int
) -> list[dict[str, Any]]:
    columns = []
    names = list(population)
    if not names:
        return [{} for _ in range(n)]
    for name in names:
        weights = population[name]
        values = [{"true": True, "false": False}.get(v, v) for v in weights]
        p = np.array(list(weights.values()), dtype=float)
        codes = rng.choice(len(values), size=n, p=p / p.sum())
        columns.append([values[c] for c in codes.tolist()])
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _iso(seconds: np.ndarray) -> list[str]:
    stamps = (seconds * 1e6).astype("int64").astype("datetime64[us]")
    return [s + "+00:00" for s in np.datetime_as_string(stamps, unit="us").tolist()]


def _values(rng: np.random.Generator, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    # log-normal with the given mean: mu = ln(mean) - sigma^2 / 2
    return np.round(rng.lognormal(np.log(mean) - sigma * sigma / 2, sigma), 2)


class _Events:
    """Column lists of events, turned into API items at the end."""

    def __init__(self) -> None:
        self.unit: list[np.ndarray] = []
        self.name: list[str] = []
        self.count: list[int] = []
        self.suffix: list[list[str]] = []
        self.time: list[np.ndarray] = []
        self.value: list[np.ndarray | None] = []
        self.props: list[list[dict[str, Any]] | None] = []

    def add(
        self,
        unit: np.ndarray,
        name: str,
        suffix: str | list[str],
        time: np.ndarray,
        value: np.ndarray | None = None,
        props: list[dict[str, Any]] | None = None,
    ) -> None:
        n = len(unit)
        self.unit.append(unit)
        self.name.append(name)
        self.count.append(n)
        self.suffix.append([suffix] * n if isinstance(suffix, str) else suffix)
        self.time.append(time)
        self.value.append(value)
        self.props.append(props)

    def items(self, unit_ids: list[str], now: float) -> tuple[list[dict[str, Any]], np.ndarray]:
        out: list[dict[str, Any]] = []
        units_out: list[np.ndarray] = []
        for unit, name, suffix, time, value, props in zip(
            self.unit, self.name, self.suffix, self.time, self.value, self.props, strict=True
        ):
            keep = time <= now
            index = np.flatnonzero(keep).tolist()
            stamps = _iso(time[keep])
            units = unit[keep]
            units_out.append(units)
            values = value[keep].tolist() if value is not None else None
            for j, (i, u) in enumerate(zip(index, units.tolist(), strict=True)):
                uid = unit_ids[u]
                item: dict[str, Any] = {
                    "event_id": f"{uid}:{suffix[i]}",
                    "unit_id": uid,
                    "event": name,
                    "timestamp": stamps[j],
                }
                if values is not None:
                    item["value"] = values[j]
                if props is not None:
                    item["properties"] = props[i]
                out.append(item)
        return out, np.concatenate(units_out) if units_out else np.zeros(0, dtype=int)


def _behaviour_columns(behaviours: list[Behaviour], index: np.ndarray) -> dict[str, np.ndarray]:
    return {
        name: np.array([getattr(b, name) for b in behaviours], dtype=float)[index]
        for name in (
            "purchase",
            "order_value",
            "value_sigma",
            "repeat",
            "d0",
            "d1",
            "d7",
            "refund",
            "coupon",
        )
    }


def user_chunk_events(
    rng: np.random.Generator,
    *,
    unit_ids: list[str],
    behaviours: list[Behaviour],
    behaviour_index: np.ndarray,
    t0: np.ndarray,
    returning: np.ndarray,
    now: float,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The events of a chunk of users (``t0`` in epoch seconds; behaviour per user by index
    into ``behaviours``), up to ``now``; returns (items, the user index of each item)."""
    n = len(unit_ids)
    b = _behaviour_columns(behaviours, behaviour_index)
    everyone = np.arange(n)
    ev = _Events()
    opens = everyone[rng.random(n) < b["d0"]]
    ev.add(opens, "app_open", "open0", t0[opens] + rng.uniform(0, 30, len(opens)) * 60)
    for day, name in ((1, "d1"), (7, "d7")):
        hit = np.flatnonzero(rng.random(n) < b[name])
        at = t0[hit] + day * DAY + rng.uniform(0.01, 23.9, len(hit)) * HOUR
        ev.add(hit, "app_open", f"open{day}", at)

    propensity = rng.gamma(PROPENSITY_SHAPE, 1 / PROPENSITY_SHAPE, n)
    chance = np.minimum(1.0, b["purchase"] * propensity)
    # Before exposure every user behaves as the control's do (behaviours[0]): a variant acts
    # from exposure on, so the history before it is alike in every arm.
    past = _behaviour_columns(behaviours, np.zeros(n, dtype=int))
    past_chance = np.minimum(1.0, past["purchase"] * propensity)
    pre = np.flatnonzero(returning & (rng.random(n) < past_chance))
    pre_value = _values(rng, past["order_value"][pre], past["value_sigma"][pre])
    ev.add(
        pre,
        "purchase",
        "pre",
        t0[pre] - rng.uniform(1, WEEK_HOURS, len(pre)) * HOUR,
        pre_value,
        [{"revenue": v} for v in pre_value.tolist()],
    )

    buyers = np.flatnonzero(rng.random(n) < chance)
    m = len(buyers)
    first = np.minimum(rng.exponential(30.0, m), WEEK_HOURS - 1) + rng.uniform(0, 1, m)
    q = b["repeat"][buyers] / (1 + b["repeat"][buyers])
    extra = rng.geometric(1 - q) - 1
    order_unit = np.concatenate([buyers, np.repeat(buyers, extra)])
    order_hours = np.concatenate(
        [first, rng.uniform(np.repeat(first, extra), WEEK_HOURS)]
    )  # extras come after the first order
    order_rank = np.concatenate([np.zeros(m, dtype=int), _ranks(extra)])
    value = _values(rng, b["order_value"][order_unit], b["value_sigma"][order_unit])
    discount = np.where(order_rank == 0, b["coupon"][order_unit], 0.0)
    net = np.round(value - discount, 2)
    ev.add(
        order_unit,
        "purchase",
        [f"buy{r}" for r in order_rank.tolist()],
        t0[order_unit] + order_hours * HOUR,
        value,
        [
            {"revenue": v, "net_revenue": x}
            for v, x in zip(value.tolist(), net.tolist(), strict=True)
        ],
    )
    coupon = np.flatnonzero((order_rank == 0) & (discount > 0))
    ev.add(
        order_unit[coupon],
        "coupon_redeemed",
        "coupon",
        t0[order_unit[coupon]] + order_hours[coupon] * HOUR,
        discount[coupon],
        [{"coupon": "NEW10"}] * len(coupon),
    )
    refund = np.flatnonzero(rng.random(m) < b["refund"][buyers])
    ev.add(
        buyers[refund],
        "refund",
        "refund",
        t0[buyers[refund]] + (first[refund] + rng.uniform(1, 6, len(refund))) * HOUR,
    )
    return ev.items(unit_ids, now)


def _ranks(extra: np.ndarray) -> np.ndarray:
    """1, 2, ... k for each buyer's k extra orders, concatenated."""
    total = int(extra.sum())
    if not total:
        return np.zeros(0, dtype=int)
    starts = np.repeat(np.cumsum(extra) - extra, extra)
    return np.arange(total) - starts + 1


def _seconds(at: datetime) -> float:
    return at.timestamp()


def simulate_chunk(
    *,
    experiment: Experiment,
    scenario: Scenario,
    seed: int,
    first_index: int,
    users: int,
    arrive_from: datetime,
    arrive_to: datetime,
    now: datetime,
) -> SimChunk:
    """Users ``first_index`` .. ``first_index + users - 1`` of the simulation: assigned, with
    their events (retries appended)."""
    rng = np.random.default_rng([seed, first_index])
    key = experiment.key
    unit_ids = [f"sim-{seed}-{key}-{i:07d}" for i in range(first_index, first_index + users)]
    attributes = _attribute_columns(rng, scenario.population, users)
    start, span = _seconds(arrive_from), _seconds(arrive_to) - _seconds(arrive_from)
    t0 = start + rng.random(users) * span
    arrivals = [datetime.fromtimestamp(t, UTC) for t in t0.tolist()]
    defn = definitions_get().by_key[key]
    answers = [assign_experiment(defn, u, a) for u, a in zip(unit_ids, attributes, strict=True)]
    keys = [v.key for v in defn.variants]
    behaviours = [scenario.control, *(scenario.behaviour(k) for k in keys)]
    position = {k: i + 1 for i, k in enumerate(keys)}
    index = np.array(
        [position[a.variant.key] if a.record and a.variant is not None else 0 for a in answers]
    )
    returning = np.array([not a.get("is_new_user", False) for a in attributes])
    items, owner = user_chunk_events(
        rng,
        unit_ids=unit_ids,
        behaviours=behaviours,
        behaviour_index=index,
        t0=t0,
        returning=returning,
        now=_seconds(now),
    )
    unexposed = int((index[owner] == 0).sum()) if len(owner) else 0
    retry = np.flatnonzero(rng.random(len(items)) < RETRY_SHARE).tolist()
    items.extend(items[i] for i in retry)
    return SimChunk(unit_ids, attributes, answers, arrivals, items, len(retry), unexposed)


def store_bulk(chunk: SimChunk, *, received_at: datetime | None = None) -> tuple[int, IngestResult]:
    """Store a chunk through the bulk path; returns (new exposures, ingest result)."""
    written = exposures_record_bulk(
        items=(
            BulkExposure(u, a, answer, at)
            for u, a, answer, at in zip(
                chunk.unit_ids, chunk.attributes, chunk.answers, chunk.arrivals, strict=True
            )
        )
    )
    return written, events_ingest_bulk(items=chunk.items, received_at=received_at)


def store_per_call(
    chunk: SimChunk, *, received_at: datetime | None = None
) -> tuple[int, IngestResult]:
    """Store a chunk call by call, as the API would: one ``exposures_record`` per unit, events
    in batches of 1,000; returns (exposure rows written or checked, summed ingest result)."""
    written = 0
    for u, a, answer, at in zip(
        chunk.unit_ids, chunk.attributes, chunk.answers, chunk.arrivals, strict=True
    ):
        written += exposures_record(unit_id=u, attributes=a, assignments=[answer], now=at)
    accepted = duplicates = 0
    rejected: list[tuple[int, str]] = []
    for start in range(0, len(chunk.items), MAX_BATCH_EVENTS):
        batch = chunk.items[start : start + MAX_BATCH_EVENTS]
        outcome = events_ingest(payload={"events": batch}, received_at=received_at)
        accepted += outcome.accepted
        duplicates += outcome.duplicates
        rejected.extend((start + i, reason) for i, reason in outcome.rejected)
    return written, IngestResult(accepted=accepted, duplicates=duplicates, rejected=rejected)


def simulate_bulk(
    *,
    experiment: Experiment,
    scenario: Scenario,
    users: int,
    days: float,
    seed: int,
    now: datetime | None = None,
    progress: Progress | None = None,
    arrive_from: datetime | None = None,
    arrive_to: datetime | None = None,
    first_index: int = 0,
    chunk_users: int = CHUNK_USERS,
) -> SimulationResult:
    """Simulate ``users`` users arriving over the last ``days`` days (or between
    ``arrive_from`` and ``arrive_to``) and store them through the bulk path."""
    check_simulation(experiment, scenario, users, days)
    now = now or timezone.now()
    arrive_from = arrive_from or now - timedelta(days=days)
    arrive_to = arrive_to or now
    report = progress or (lambda done, total, stage: None)
    result = SimulationResult(experiment=experiment.key, users=users)
    done = 0
    report(0, users, f"{experiment.key}: users")
    while done < users:
        size = min(chunk_users, users - done)
        chunk = simulate_chunk(
            experiment=experiment,
            scenario=scenario,
            seed=seed,
            first_index=first_index + done,
            users=size,
            arrive_from=arrive_from,
            arrive_to=arrive_to,
            now=now,
        )
        _, outcome = store_bulk(chunk)
        for a in chunk.answers:
            if a.record and a.variant is not None:
                result.exposed[a.variant.key] += 1
        result.events_sent += len(chunk.items)
        result.accepted += outcome.accepted
        result.duplicates += outcome.duplicates
        result.rejected += len(outcome.rejected)
        result.retried += chunk.retried
        result.unexposed_events += chunk.unexposed_events
        done += size
        report(done, users, f"{experiment.key}: users")
    return result


def users_for(exposed: int, share_in: float) -> int:
    """How many users to send for about ``exposed`` exposures when ``share_in`` get in."""
    return math.ceil(exposed / max(share_in, 1e-9))
