"""A curve metric's detail page: both arms' curves with their interval bands, the effect by
day, and the values table with every point (W1 and M1 too), from a refreshed snapshot."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from analysis.services.snapshots import experiment_refresh
from experiments.models import Experiment
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.analysis.test_metric_curves import ACTIVITY, AS_OF, _simulate
from tests.console.helpers import client_as

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def curve_experiment() -> Experiment:
    """A retention curve (primary) and a value to date curve on 70 days of simulated units,
    refreshed."""
    retention = metric("d_retention", "retention_curve", event="", activity=ACTIVITY, name="日留存")
    ltv = metric(
        "ltv_new10", "value_curve", value_field="revenue", horizon_days=60, name="LTV of NEW10"
    )
    exp = experiment_with([(retention, "primary"), (ltv, "secondary")])
    _simulate(exp)
    assert experiment_refresh(experiment=exp, as_of=AS_OF).status == "ok"
    return exp


def _page(exp: Experiment, key: str) -> str:
    url = f"/experiments/{exp.key}/results/metrics/{key}/"
    response = client_as("viewer").get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_metric_page__retention_curve__arms_effect_and_table() -> None:
    exp = curve_experiment()
    html = _page(exp, "d_retention")
    section = html.split('class="curve"')[1].split("</section>")[0]
    assert "Retention by day since exposure" in section
    assert "The decision reads W1" in section
    # Two panels: both arms (two bands, two lines) and the treatment's effect (one of each).
    assert len(re.findall(r'<path class="band band-\d"', section)) == 3
    assert len(re.findall(r'<path class="line line-\d"', section)) == 3
    # The table: W1 (the decision's) first, then D1..D30 and M1, a row per treatment each.
    points = re.findall(r'<th scope="row">([DWM]\d+)', section)
    assert points == ["W1", *(f"D{d}" for d in range(1, 31)), "M1"]
    assert 'class="headline"' in section and "★" in section
    assert section.count("<tr") == 1 + 32
    # W1's values in words above the charts: both arms with their mature units.
    headline = section.split('class="curve-headline"')[1].split("</p>")[0]
    assert "W1" in headline and "Control" in headline and "Treatment" in headline


def test_metric_page__value_curve__days_to_d60() -> None:
    exp = curve_experiment()
    section = _page(exp, "ltv_new10").split('class="curve"')[1].split("</section>")[0]
    assert "Value to date by day since exposure" in section
    assert "The decision reads D7" in section
    points = re.findall(r'<th scope="row">(D\d+)', section)
    assert points == ["D7", *(f"D{d}" for d in range(1, 31) if d != 7), "D60"]
    assert ">D60</text>" in section  # the x-axis reaches day 60


def test_metric_page__ordinary_metric__no_curve(db: None) -> None:
    m = metric("plain")
    exp = experiment_with([(m, "primary")])
    experiment_refresh(experiment=exp, as_of=AS_OF)
    assert 'class="curve"' not in _page(exp, "plain")


def test_report__curve_metrics__headline_point_named_in_the_table() -> None:
    exp = curve_experiment()
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    assert "A curve: W1 is shown and decides; every point is on the metric&#x27;s page" in html
    assert "A curve: D7 is shown and decides" in html


def _coupon_pulls_forward() -> Experiment:
    """A first-order coupon that moves purchases earlier without adding any: the same orders
    per unit in both arms, within 3 days of exposure with the coupon, over 30 days without."""
    ltv = metric("ltv_coupon", "value_curve", value_field="revenue", horizon_days=30)
    metrics = [
        (metric("paid", "conversion", event="purchase"), "primary"),
        (metric("arpu", "mean", event="purchase", value_field="revenue"), "secondary"),
        (ltv, "secondary"),
    ]
    exp = experiment_with(metrics, kind="promotion")
    rng = np.random.default_rng(3)
    d = Data(exp)
    for i in range(800):
        unit, variant = f"u{i}", ("control", "treatment")[i % 2]
        t0 = T0 + float(rng.uniform(0, 40)) * DAY
        d.expose(unit, variant, t0)
        if rng.random() < 0.6:
            days = float(rng.uniform(0, 3 if variant == "treatment" else 30))
            d.event(unit, t0 + days * DAY, value=30.0, properties={"revenue": 30.0})
    d.save()
    assert experiment_refresh(experiment=exp, as_of=T0 + 45 * DAY).status == "ok"
    return exp


def test_economics__coupon_pulls_purchases_forward__value_curve_cited() -> None:
    exp = _coupon_pulls_forward()
    html = client_as("viewer", "pm").get(f"/experiments/{exp.key}/results/").content.decode()
    section = html.split('id="economics"')[1].split("</section>")[0]
    assert "Does the promotion pull purchases forward or add to them?" in section
    reading = section.split('class="curve-reading reading-faded"')[1].split("</p>")[0]
    assert "/results/metrics/ltv_coupon/" in reading
    assert "led at D7" in reading and "by D30" in reading and "pulled purchases forward" in reading
    # The metric's page says the same above its charts.
    page = _page(exp, "ltv_coupon")
    assert "reading-faded" in page.split('class="curve"')[1].split("<figure")[0]
