"""`manage.py demo` (what `make run` loads): people for each role, simulated traffic and a history
of results, so the first page shows real numbers; running it again changes nothing.

These run the demo at 2% of its size (``--scale 0.02``) to stay quick; the full size, its
figures and its speed are checked by ``tests/test_demo_full.py`` (slow)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from analysis.models import PlantedEffect, ResultSnapshot
from assignment.models import Event, Exposure
from experiments.demo import CONCLUDED, TRAFFIC
from experiments.models import Experiment

pytestmark = pytest.mark.django_db


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def definitions_only() -> str:
    return _demo("--no-traffic")


QUICK = ("--scale", "0.02", "--days", "8")  # 2% of the users, 8 days of history


def test_demo__run_twice__real_results_for_every_experiment_with_traffic_and_nothing_added(client):
    _demo(*QUICK)
    _units_in_every_variant()
    _history_of_snapshots()
    _concluded_with_its_readout()
    _list_links_each_experiment_to_its_report_with_the_planted_truth(client)
    counts = (
        Exposure.objects.count(),
        Event.objects.count(),
        ResultSnapshot.objects.count(),
        PlantedEffect.objects.count(),
    )
    again = _demo(*QUICK)
    assert (
        Exposure.objects.count(),
        Event.objects.count(),
        ResultSnapshot.objects.count(),
        PlantedEffect.objects.count(),
    ) == counts
    assert "password 'unchanged" in again


def _with_traffic() -> list[Experiment]:
    return list(Experiment.objects.filter(key__in=TRAFFIC))


def _units_in_every_variant() -> None:
    assert {e.status for e in _with_traffic()} <= {"running", "paused", "concluded"}
    assert Experiment.objects.filter(status="running").count() >= 3
    for experiment in _with_traffic():
        latest = ResultSnapshot.objects.filter(experiment=experiment, status="ok").latest("as_of")
        units = latest.results["units"]["by_variant"]
        assert set(units) == set(experiment.variants.values_list("key", flat=True))
        assert min(units.values()) > 300, (experiment.key, units)
        assert latest.results["events"] > 0


def _history_of_snapshots() -> None:
    for experiment in _with_traffic():
        if "days" in TRAFFIC[experiment.key]:  # traffic on the first days only
            continue
        snapshots = ResultSnapshot.objects.filter(experiment=experiment).order_by("as_of")
        as_of = [s.as_of for s in snapshots]
        assert len(set(as_of)) >= 8, experiment.key  # one a day
        units = [sum(s.results["units"]["by_variant"].values()) for s in snapshots]
        assert units == sorted(units) and units[0] < units[-1]  # traffic accrues over time


def _concluded_with_its_readout() -> None:
    for key, params in CONCLUDED.items():
        experiment = Experiment.objects.get(key=key)
        assert experiment.status == "concluded"
        assert experiment.decision == params["decision"]
        assert experiment.learnings.startswith("复盘")


def _list_links_each_experiment_to_its_report_with_the_planted_truth(client) -> None:  # noqa: ANN001
    assert client.login(username="viewer", password="verdict-demo")
    html = client.get("/experiments/").content.decode()
    for experiment in _with_traffic():
        assert f"/experiments/{experiment.key}/" in html
        report = client.get(f"/experiments/{experiment.key}/results/")
        assert report.status_code == 200, experiment.key
    planted = PlantedEffect.objects.get(
        experiment__key="pricing-pro-tier", metric="paid_conversion"
    )
    assert planted.effect == pytest.approx(-0.10)
    report = client.get("/experiments/pricing-pro-tier/results/").content.decode()
    assert "planted: −10.00%" in report
    assert "demo data" in report
    client.cookies["django_language"] = "zh-hans"
    report = client.get("/experiments/pricing-pro-tier/results/").content.decode()
    assert "预设：−10.00%" in report and "演示数据" in report
    del client.cookies["django_language"]


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
