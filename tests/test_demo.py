"""`manage.py demo` (what `make run` loads): people for each role, simulated traffic and a history
of results, so the first page shows real numbers; running it again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from analysis.models import ResultSnapshot
from assignment.models import Event, Exposure
from experiments.models import Experiment

pytestmark = pytest.mark.django_db


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def definitions_only() -> str:
    return _demo("--no-traffic")


def test_demo__run_twice__real_results_for_every_running_experiment_and_nothing_added(client):
    _demo()
    _over_1000_units_per_variant()
    _history_of_snapshots()
    _list_links_each_running_experiment_to_its_report(client)
    counts = (Exposure.objects.count(), Event.objects.count(), ResultSnapshot.objects.count())
    again = _demo()
    assert (
        Exposure.objects.count(),
        Event.objects.count(),
        ResultSnapshot.objects.count(),
    ) == counts
    assert "password 'unchanged" in again


def _over_1000_units_per_variant() -> None:
    running = Experiment.objects.filter(status="running")
    assert running.count() == 4
    for experiment in running:
        latest = ResultSnapshot.objects.filter(experiment=experiment, status="ok").latest("as_of")
        units = latest.results["units"]["by_variant"]
        assert set(units) == set(experiment.variants.values_list("key", flat=True))
        assert min(units.values()) > 1000, (experiment.key, units)
        assert latest.results["events"] > 0


def _history_of_snapshots() -> None:
    for experiment in Experiment.objects.filter(status="running"):
        as_of = list(
            ResultSnapshot.objects.filter(experiment=experiment).values_list("as_of", flat=True)
        )
        assert len(set(as_of)) >= 10, experiment.key
        units = [
            sum(s.results["units"]["by_variant"].values())
            for s in ResultSnapshot.objects.filter(experiment=experiment).order_by("as_of")
        ]
        assert units == sorted(units) and units[0] < units[-1]  # traffic accrues over time


def _list_links_each_running_experiment_to_its_report(client) -> None:  # noqa: ANN001
    assert client.login(username="viewer", password="verdict-demo")
    html = client.get("/experiments/").content.decode()
    for experiment in Experiment.objects.filter(status="running"):
        assert f"/experiments/{experiment.key}/" in html
        report = client.get(f"/experiments/{experiment.key}/results/")
        assert report.status_code == 200, experiment.key


def test_demo__people__admin_editor_viewer_in_their_groups_passwords_printed(definitions_only):
    User = get_user_model()  # noqa: N806
    for username in ("admin", "editor", "viewer"):
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [username]
        assert user.check_password("verdict-demo")
        assert f"username '{username}', password 'verdict-demo'" in definitions_only
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="editor").is_staff


def test_demo__names__match_the_variants(definitions_only):
    pricing = Experiment.objects.get(key="pricing-pro-tier")
    assert "29 vs 39" in pricing.name
    prices = [v.payload["plans"]["pro"] for v in pricing.variants.order_by("-is_control")]
    assert prices == [29, 39]
    assert [v.name for v in pricing.variants.order_by("-is_control")] == ["Pro at 29", "Pro at 39"]
