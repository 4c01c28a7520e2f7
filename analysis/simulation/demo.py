"""Loading the demo: people for each role, the definitions, simulated traffic and snapshots.

Every step is idempotent: people and definitions are created when missing, traffic is sent
only to an experiment with no exposures yet, and the history of snapshots only computed for an
experiment with none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from assignment.models import Exposure
from core.actors import Actor
from experiments.demo import EXPERIMENTS, METRICS, TRAFFIC, TRAFFIC_DAYS
from experiments.models import Experiment, ExperimentStatus, Metric, Phase
from experiments.services.experiments import experiment_create
from experiments.services.lifecycle import experiment_transition
from experiments.services.metrics import metric_create

from .runner import Progress, simulate
from .scenarios import SCENARIOS

# username -> (role group, staff and superuser)
DEMO_PEOPLE: dict[str, tuple[str, bool]] = {
    "admin": ("admin", True),
    "editor": ("editor", False),
    "viewer": ("viewer", False),
}
HISTORY_STEP_DAYS = 2
HISTORY_FIRST_DAY = 2  # the first snapshot, this many days after the start


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
    before ``now`` (so the simulated month of traffic falls inside their running time)."""
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


def demo_traffic_ensure(
    *, experiment: Experiment, now: dt.datetime, days: float, progress: Progress | None = None
) -> int:
    """Simulate the experiment's demo traffic unless it has exposures; returns users sent."""
    plan = TRAFFIC.get(experiment.key)
    if (
        plan is None
        or experiment.status != ExperimentStatus.RUNNING
        or Exposure.objects.filter(experiment=experiment, phase=experiment.phase).exists()
    ):
        return 0
    simulate(
        experiment=experiment,
        scenario=SCENARIOS[experiment.key],
        users=plan["users"],
        days=days,
        seed=plan["seed"],
        now=now,
        progress=progress,
    )
    return plan["users"]


def demo_history_ensure(*, experiment: Experiment, now: dt.datetime, days: float) -> int:
    """Snapshots as of every other day of the simulated time, and one as of ``now``, unless the
    experiment has snapshots already; returns how many were computed."""
    if (
        experiment.status != ExperimentStatus.RUNNING
        or ResultSnapshot.objects.filter(experiment=experiment).exists()
    ):
        return 0
    start = now - dt.timedelta(days=days)
    points = [
        start + dt.timedelta(days=d) for d in range(HISTORY_FIRST_DAY, int(days), HISTORY_STEP_DAYS)
    ]
    for as_of in [*points, now]:
        experiment_refresh(experiment=experiment, as_of=as_of)
    return len(points) + 1


def demo_load(
    *, password: str, traffic: bool = True, progress: Progress | None = None
) -> tuple[list[DemoPerson], list[Experiment]]:
    """Everything ``manage.py demo`` loads (see the module docstring)."""
    now = timezone.now()
    people = demo_people_ensure(password=password)
    admin = get_user_model().objects.get(username="admin")
    actor = Actor(label=admin.get_username(), user=admin)
    experiments = demo_definitions_ensure(actor=actor, now=now, days=TRAFFIC_DAYS)
    if traffic:
        for experiment in experiments:
            demo_traffic_ensure(
                experiment=experiment, now=now, days=TRAFFIC_DAYS, progress=progress
            )
            demo_history_ensure(experiment=experiment, now=now, days=TRAFFIC_DAYS)
    return people, experiments
