"""A metric's effect over time (console.report.effect_chart and analysis/_effect_chart.html):
the card's full width, dates on the x-axis, the scale of the later snapshots with the early
interval clipped and marked, every value in a table, the absolute effect where the relative
one is undefined."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from analysis.services.snapshots import experiment_refresh
from console.report.effect_chart import effect_over_time
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

DAY = dt.timedelta(days=1)
DAYS = (1, 2, 4, 7, 10)


def _daily(control_rate: float, treatment_rate: float):
    """Forty users a day for ten days, converting every so often at the given rates, with a
    snapshot on each of ``DAYS``."""
    exp = experiment_with([(metric("conv", name="Checkout conversion"), "primary")])
    d = Data(exp)
    for day in range(10):
        for i in range(40):
            treated = i % 2 == 1
            rate = treatment_rate if treated else control_rate
            at = T0 + day * DAY + dt.timedelta(minutes=i)
            d.expose(f"d{day}u{i}", "treatment" if treated else "control", at)
            if (i // 2) % 20 < rate * 20:
                d.event(f"d{day}u{i}", at + dt.timedelta(hours=1))
    d.save()
    for day in DAYS:
        experiment_refresh(experiment=exp, as_of=T0 + day * DAY)
    return exp


@pytest.fixture
def exp(db: None):
    return _daily(0.25, 0.4)


def test_effect_chart__ten_days__a_point_per_snapshot_and_date_ticks(exp) -> None:
    chart = effect_over_time(experiment=exp, metric="conv")
    assert chart is not None and chart["relative"]
    (series,) = chart["series"]
    assert len(series.points) == len(DAYS)
    assert series.points[0].x == pytest.approx(3) and series.points[-1].x == pytest.approx(97)
    labels = [t["label"] for t in chart["x_ticks"]]
    assert 3 <= len(labels) <= 6
    assert all(re.fullmatch(r"Jan\.? \d{1,2}", label) for label in labels), labels


def test_effect_chart__wide_first_interval__scaled_to_later_ones_and_marked(exp) -> None:
    chart = effect_over_time(experiment=exp, metric="conv")
    first, *rest = chart["series"][0].points
    assert first.clipped_high or first.clipped_low
    assert not any(p.clipped for p in rest[len(rest) // 2 :])
    assert chart["clipped"]


def test_effect_chart__zh_hans__chinese_dates(exp) -> None:
    with translation.override("zh-hans"):
        chart = effect_over_time(experiment=exp, metric="conv")
    labels = [t["label"] for t in chart["x_ticks"]]
    assert all(re.fullmatch(r"1月\d{1,2}日", label) for label in labels), labels


def test_effect_chart__page__full_width_svg_focusable_points_and_values_table(exp) -> None:
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/metrics/conv/").text
    svg = re.search(r'<svg class="effect-over-time"[^>]*>', html).group(0)
    assert 'width="100%"' in svg
    assert html.count('<g class="pt series-1" tabindex="0" role="img"') == len(DAYS)
    assert html.count('class="clip-mark"') >= 1
    table = html[html.index('<details class="chart-values">') : html.index("</details>")]
    assert table.count('<tr><th scope="row">') == len(DAYS)
    assert "%" in table and "[" in table
    assert '<details class="daily-units-fold">' in html  # folded: no "open"


def test_effect_chart__relative_undefined__absolute_effect_drawn(db: None) -> None:
    exp = _daily(0.0, 0.4)  # the control never converts: no relative effect
    chart = effect_over_time(experiment=exp, metric="conv")
    assert chart is not None and not chart["relative"]
    assert all("%" not in t["label"] for t in chart["y_ticks"])
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/metrics/conv/").text
    assert "Cumulative absolute effect (the relative effect is undefined)" in html
    assert "Absolute effect of Checkout conversion over time" in html


def test_effect_chart__no_snapshot__none(db: None) -> None:
    exp = experiment_with([(metric("conv"), "primary")])
    assert effect_over_time(experiment=exp, metric="conv") is None
