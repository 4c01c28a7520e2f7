"""Driving simulated traffic through the real assignment and event services (or the HTTP API).

Each user is assigned with the same code the assign API runs (``assign_unit`` on the
in-process definitions) and, when in, stored as an exposure back-dated to its arrival time
(``exposures_record(now=...)``). Its events then go through ``events_ingest`` in batches of up
to 1,000, as an app would send them, exercising the pipeline's rules:

- **late** events: a share is held back and sent after all the others;
- **retries**: a share of events is sent again at the end (same ``event_id``: duplicates);
- **never exposed**: users outside the experiment (not targeted, outside coverage) send their
  events too; analysis must leave them out.

With ``url`` the same traffic goes through ``POST /api/v1/assign`` and ``POST /api/v1/events``
(an ``app`` key). The server stamps exposures when it answers, so arrivals are all "now" and
only the behaviour of the first 23 hours is sent (the API takes timestamps up to 24 hours
ahead).
"""

from __future__ import annotations

import json
import random
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from assignment.definitions import definitions_get
from assignment.services.assign import assign_unit
from assignment.services.events import MAX_BATCH_EVENTS, events_ingest
from assignment.services.exposures import exposures_record
from core.errors import ValidationFailed
from experiments.models import Experiment, ExperimentStatus

from .scenarios import Scenario
from .traffic import SimEvent, draw_attributes, user_events

MAX_DAYS = 60  # pre-exposure purchases reach 7 days further back; events are kept 90 days
LATE_SHARE = 0.03
RETRY_SHARE = 0.02
EXPOSURE_CHUNK = 500

Progress = Callable[[int, int, str], None]


@dataclass
class SimulationResult:
    experiment: str
    users: int
    exposed: Counter[str] = field(default_factory=Counter)  # variant key -> units
    events_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    late: int = 0
    retried: int = 0
    unexposed_events: int = 0
    exposure_units: set[str] = field(default_factory=set)
    acknowledged_event_ids: set[str] = field(default_factory=set)


def check_simulation(experiment: Experiment, scenario: Scenario, users: int, days: float) -> None:
    errors: dict[str, list[str]] = {}
    if experiment.status != ExperimentStatus.RUNNING:
        errors["experiment"] = [
            f"Experiment {experiment.key!r} is {experiment.status}; start it to send traffic."
        ]
    variants = set(experiment.variants.values_list("key", flat=True))
    unknown = sorted(set(scenario.effects) - variants)
    if unknown:
        errors["scenario"] = [
            f"Effects for unknown variant(s) {unknown}; the experiment has {sorted(variants)}."
        ]
    if users < 1:
        errors["users"] = ["Simulate at least one user."]
    if not 0 < days <= MAX_DAYS:
        errors["days"] = [f"Days must be more than 0 and at most {MAX_DAYS}."]
    if errors:
        raise ValidationFailed(errors)


class _Sender:
    """Sends event batches (services or HTTP) and counts what the server acknowledged."""

    def __init__(self, result: SimulationResult, url: str | None, api_key: str | None) -> None:
        self.result, self.url, self.api_key = result, url, api_key

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (our server)
            return json.loads(answer.read())

    def send(self, batch: list[SimEvent]) -> None:
        payload = {"events": [e.as_payload() for e in batch]}
        if self.url:
            answer = self.post("/api/v1/events", payload)
            accepted, duplicates = answer["accepted"], answer["duplicates"]
            rejected = {item["index"] for item in answer.get("rejected", [])}
        else:
            outcome = events_ingest(payload=payload)
            accepted, duplicates = outcome.accepted, outcome.duplicates
            rejected = {index for index, _ in outcome.rejected}
        r = self.result
        r.events_sent += len(batch)
        r.accepted += accepted
        r.duplicates += duplicates
        r.rejected += len(rejected)
        r.acknowledged_event_ids.update(
            e.event_id for i, e in enumerate(batch) if i not in rejected
        )


def simulate(
    *,
    experiment: Experiment,
    scenario: Scenario,
    users: int,
    days: float,
    seed: int,
    now: datetime | None = None,
    progress: Progress | None = None,
    url: str | None = None,
    api_key: str | None = None,
) -> SimulationResult:
    """Send ``users`` simulated users through ``experiment`` over the last ``days`` days."""
    check_simulation(experiment, scenario, users, days)
    rng = random.Random(seed)
    now = now or timezone.now()
    result = SimulationResult(experiment=experiment.key, users=users)
    sender = _Sender(result, url.rstrip("/") if url else None, api_key)
    report = progress or (lambda done, total, stage: None)
    events: list[SimEvent] = []
    pending: list[tuple[str, dict[str, Any], Any, datetime]] = []
    keys = experiment.variants.values_list("key", flat=True)
    behaviours = {key: scenario.behaviour(key) for key in keys}
    control = scenario.control

    def flush() -> None:
        with transaction.atomic():
            for unit_id, attributes, answer, t0 in pending:
                exposures_record(
                    unit_id=unit_id, attributes=attributes, assignments=[answer], now=t0
                )
        pending.clear()

    for i in range(users):
        unit_id = f"sim-{seed}-{experiment.key}-{i:07d}"
        attributes = draw_attributes(rng, scenario.population)
        returning = not attributes.get("is_new_user", False)
        if url:
            answer = sender.post(
                "/api/v1/assign",
                {"unit_id": unit_id, "attributes": attributes, "experiments": [experiment.key]},
            )["assignments"][0]
            variant = answer["variant"] if answer["in_experiment"] else None
            t0 = timezone.now()
            horizon = t0 + timedelta(hours=23)
        else:
            [answer] = assign_unit(definitions_get(), unit_id, attributes, [experiment.key])
            variant = answer.variant.key if answer.record and answer.variant else None
            t0 = now - timedelta(days=days) * rng.random()
            horizon = now
            if variant is not None:
                pending.append((unit_id, attributes, answer, t0))
        behaviour = behaviours.get(variant, control) if variant else control
        mine = user_events(
            rng=rng,
            unit_id=unit_id,
            behaviour=behaviour,
            t0=t0,
            now=horizon,
            returning=returning,
            before=control,
        )
        if variant is None:
            result.unexposed_events += len(mine)
        else:
            result.exposed[variant] += 1
            result.exposure_units.add(unit_id)
        events.extend(mine)
        if len(pending) >= EXPOSURE_CHUNK:
            flush()
        if i % 500 == 0:
            report(i, users, "users")
    flush()
    report(users, users, "users")
    _send_events(rng, sender, events, report)
    return result


def _send_events(
    rng: random.Random, sender: _Sender, events: list[SimEvent], report: Progress
) -> None:
    """Send in time order, in batches; a few late (after all the others), and a few again at
    the end, as an app does when it never heard the answer to a batch (same event ids)."""
    events.sort(key=lambda e: e.timestamp)
    on_time: list[SimEvent] = []
    late: list[SimEvent] = []
    for e in events:
        (late if rng.random() < LATE_SHARE else on_time).append(e)
    retried = [e for e in on_time if rng.random() < RETRY_SHARE]
    sender.result.late = len(late)
    sender.result.retried = len(retried)
    batches = [
        chunk[i : i + MAX_BATCH_EVENTS]
        for chunk in (on_time, late, retried)
        for i in range(0, len(chunk), MAX_BATCH_EVENTS)
    ]
    for n, batch in enumerate(batches, 1):
        sender.send(batch)
        report(n, len(batches), "events")
