"""The demo loads its experiments in side-by-side processes: every experiment is loaded once,
by a process with its own connection, and a failure names the experiment (PostgreSQL: forked
processes need a database they can each connect to)."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from analysis.simulation.processes import each_in_processes
from experiments.models import Experiment
from tests.factories import ExperimentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("forked loaders need a database each process connects to")


def _mark(experiment: Experiment) -> None:
    Experiment.objects.filter(pk=experiment.pk).update(hypothesis=f"loaded by {os.getpid()}")


def test_each_in_processes__two_processes__each_experiment_loaded_once_elsewhere() -> None:
    experiments = [ExperimentFactory(key=f"load-{i}") for i in range(5)]
    each_in_processes(experiments, _mark, processes=2)
    loaded = dict(
        Experiment.objects.filter(key__startswith="load-").values_list("key", "hypothesis")
    )
    assert len(loaded) == 5
    pids = {text.removeprefix("loaded by ") for text in loaded.values()}
    assert all(text.startswith("loaded by ") for text in loaded.values())
    assert str(os.getpid()) not in pids and 1 <= len(pids) <= 2


def test_each_in_processes__a_load_fails__error_names_the_experiment() -> None:
    experiments = [ExperimentFactory(key=k) for k in ("load-ok", "load-broken")]

    def load(experiment: Experiment) -> None:
        if experiment.key == "load-broken":
            raise ValueError("no traffic plan")
        _mark(experiment)

    with pytest.raises(RuntimeError, match="load-broken"):
        each_in_processes(experiments, load, processes=2)
    assert Experiment.objects.get(key="load-ok").hypothesis.startswith("loaded by ")


def test_each_in_processes__inside_a_transaction__loads_in_this_process() -> None:
    from django.db import transaction

    with transaction.atomic():
        experiment = ExperimentFactory(key="load-here")
        each_in_processes([experiment, ExperimentFactory(key="load-here-2")], _mark, processes=2)
        assert Experiment.objects.get(key="load-here").hypothesis == f"loaded by {os.getpid()}"
