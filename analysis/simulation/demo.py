"""Loading the demo: people for each role, the definitions, simulated traffic and snapshots.

Every step is idempotent: people and definitions are created when missing, traffic is sent
only to an experiment with no exposures yet, the daily history of snapshots only computed for
an experiment with none, and the conclusion only written to an experiment still running.

At scale 1 each experiment with traffic gets more than 100,000 exposed users over three weeks
(21 days), stored through the bulk path (``analysis.simulation.bulk``), and a snapshot for each
day since its start, each through the one refresh service (``experiment_refresh_run``), so the
guardrail breaker pauses the express checkout on the day its refunds show the harm. The
onboarding test is then stopped and concluded with its readout (复盘). ``scale`` multiplies the
users (the tests load the same demo at 2%).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from analysis.models import ResultSnapshot
from analysis.services.refresh import experiment_refresh_run
from assignment.models import Exposure
from core.actors import Actor
from experiments.demo import CONCLUDED, EXPERIMENTS, METRICS, TRAFFIC, TRAFFIC_DAYS
from experiments.models import AuditLogEntry, Experiment, ExperimentStatus, Metric, Phase
from experiments.services.experiments import experiment_create
from experiments.services.lifecycle import experiment_transition
from experiments.services.metrics import metric_create

from .bulk import simulate_bulk
from .planted import planted_effects_record
from .processes import each_in_processes
from .runner import MAX_DAYS, Progress
from .scenarios import SCENARIOS

# username -> (role group, staff and superuser)
DEMO_PEOPLE: dict[str, tuple[str, bool]] = {
    "admin": ("admin", True),
    "editor": ("editor", False),
    "viewer": ("viewer", False),
}
MIN_USERS = 200
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    role: str
    created: bool


@transaction.atomic
def demo_people_ensure(*, password: str) -> list[DemoPerson]:
    """An admin (staff and superuser), an editor (a PM) and a viewer (an analyst), each in the
    group of their role. Existing people keep their password."""
    User = get_user_model()  # noqa: N806
    people = []
    for username, (role, admin) in DEMO_PEOPLE.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": admin, "is_superuser": admin}
        )
        if created:
            user.set_password(password)
            user.save()
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
        people.append(DemoPerson(username=username, role=role, created=created))
    return people


@transaction.atomic
def demo_definitions_ensure(*, actor: Actor, now: dt.datetime, days: float) -> list[Experiment]:
    """The demo metrics and experiments; those marked to start are started, dated ``days``
    before ``now`` (so the simulated weeks of traffic fall inside their running time)."""
    for data in METRICS:
        if not Metric.objects.filter(key=data["key"]).exists():
            metric_create(actor=actor, data=data)
    experiments = []
    for data in EXPERIMENTS:
        definition = {k: v for k, v in data.items() if k != "start"}
        experiment = Experiment.objects.filter(key=data["key"]).first()
        if experiment is None:
            experiment = experiment_create(actor=actor, data=definition)
        if data["start"] and experiment.status == ExperimentStatus.DRAFT:
            experiment = experiment_transition(actor=actor, experiment=experiment, action="start")
            started = now - dt.timedelta(days=days)
            Experiment.objects.filter(pk=experiment.pk).update(started_at=started)
            Phase.objects.filter(experiment=experiment, number=experiment.phase).update(
                started_at=started
            )
            experiment.refresh_from_db()
        experiments.append(experiment)
    return experiments


def demo_users(key: str, scale: float) -> int:
    """How many users the demo sends to experiment ``key`` at ``scale``."""
    return max(MIN_USERS, round(TRAFFIC[key]["users"] * scale))


def demo_traffic_ensure(
    *,
    experiment: Experiment,
    now: dt.datetime,
    scale: float = 1.0,
    days: float = TRAFFIC_DAYS,
    progress: Progress | None = None,
) -> int:
    """Simulate the experiment's demo traffic unless it has exposures, and store its planted
    truth; returns the users sent (``demo_history_ensure`` computes the snapshots).

    Users arrive from the experiment's start over ``days`` days, or over the plan's
    ``days`` (the express checkout's first day, after which the guardrail breaker pauses it).
    """
    plan = TRAFFIC.get(experiment.key)
    if (
        plan is None
        or experiment.status != ExperimentStatus.RUNNING
        or Exposure.objects.filter(experiment=experiment, phase=experiment.phase).exists()
    ):
        return 0
    scenario = SCENARIOS[experiment.key]
    start = experiment.started_at or now - dt.timedelta(days=days)
    end = min(now, start + dt.timedelta(days=plan.get("days", days)))
    users = demo_users(experiment.key, scale)
    simulate_bulk(
        experiment=experiment,
        scenario=scenario,
        users=users,
        days=(now - start) / DAY,
        seed=plan["seed"],
        now=now,
        arrive_from=start,
        arrive_to=end,
        progress=progress,
    )
    planted_effects_record(experiment=experiment, scenario=scenario)
    return users


def demo_history_ensure(
    *, experiment: Experiment, now: dt.datetime, progress: Progress | None = None
) -> int:
    """A snapshot at the end of each day since the start and one as of ``now``, unless the
    experiment has snapshots already, each through ``experiment_refresh_run`` (so the breaker
    and the notifications see them); stops when the experiment is no longer running (the
    breaker paused it). Returns how many were computed."""
    if (
        experiment.status != ExperimentStatus.RUNNING
        or experiment.started_at is None
        or ResultSnapshot.objects.filter(experiment=experiment).exists()
    ):
        return 0
    start = experiment.started_at
    points = [start + d * DAY for d in range(1, int((now - start) / DAY) + 1)]
    if not points or points[-1] < now:
        points.append(now)
    report = progress or (lambda done, total, stage: None)
    computed = 0
    for as_of in points:
        # Past days feed the effect-over-time chart and the breaker; the segment breakdown
        # (a third of a refresh) is computed for the latest snapshot, the one the report shows.
        experiment_refresh_run(experiment=experiment, as_of=as_of, segments=as_of == points[-1])
        computed += 1
        report(computed, len(points), f"{experiment.key}: snapshots")
        experiment.refresh_from_db(fields=["status"])
        if experiment.status != ExperimentStatus.RUNNING:
            # The breaker paused it on this simulated day, not on the day the demo was loaded.
            AuditLogEntry.objects.filter(experiment=experiment, action="pause").update(at=as_of)
            report(computed, computed, f"{experiment.key}: snapshots (paused)")
            break
    return computed


def demo_conclusions_ensure(*, actor: Actor) -> list[Experiment]:
    """Stop and conclude the experiments the demo shows as concluded (with their readout),
    when still running; returns those concluded now."""
    done = []
    for key, params in CONCLUDED.items():
        experiment = Experiment.objects.filter(key=key).first()
        if experiment is None or experiment.status != ExperimentStatus.RUNNING:
            continue
        experiment = experiment_transition(actor=actor, experiment=experiment, action="stop")
        experiment_refresh_run(experiment=experiment)
        experiment = experiment_transition(
            actor=actor, experiment=experiment, action="conclude", params=params
        )
        done.append(experiment)
    return done


def demo_load(
    *,
    password: str,
    traffic: bool = True,
    scale: float = 1.0,
    days: float = TRAFFIC_DAYS,
    progress: Progress | None = None,
    workers: int = 1,
) -> tuple[list[DemoPerson], list[Experiment]]:
    """Everything ``manage.py demo`` loads (see the module docstring): ``scale`` multiplies
    the users, ``days`` is how long ago the experiments started (the days of history);
    ``workers`` processes load the experiments' traffic and history side by side
    (``analysis.simulation.processes``)."""
    if scale <= 0 or not 1 <= days <= MAX_DAYS - 7:
        raise ValueError(f"The scale must be more than 0 and the days from 1 to {MAX_DAYS - 7}.")
    now = timezone.now()
    people = demo_people_ensure(password=password)
    admin = get_user_model().objects.get(username="admin")
    actor = Actor(label=admin.get_username(), user=admin)
    experiments = demo_definitions_ensure(actor=actor, now=now, days=days)
    if traffic:

        def load(experiment: Experiment) -> None:
            demo_traffic_ensure(
                experiment=experiment, now=now, scale=scale, days=days, progress=progress
            )
            demo_history_ensure(experiment=experiment, now=now, progress=progress)

        # The costliest first (users times days of history), so the processes end together.
        def cost(e: Experiment) -> float:
            plan = TRAFFIC.get(e.key)
            return demo_users(e.key, scale) * min(plan.get("days", days), days) if plan else 0

        order = sorted(experiments, key=cost, reverse=True)
        each_in_processes(order, load, processes=workers)
        demo_conclusions_ensure(actor=actor)
        experiments = [Experiment.objects.get(pk=e.pk) for e in experiments]
    return people, experiments
