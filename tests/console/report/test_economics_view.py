"""The report's Economics section on the page: shown for pricing and promotion experiments with
the figures the service computes from the raw events (checked here with numpy), absent for
other kinds, and part of the HTMX ``report-body`` partial."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from analysis.services.snapshots import experiment_refresh
from experiments.models import Experiment, Phase
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

H = dt.timedelta(hours=1)
pytestmark = pytest.mark.django_db


def _experiment(kind: str, *, coupon: float = 0.0):
    metrics = [
        (metric("paid", "conversion", event="purchase"), "primary"),
        (metric("arpu", "mean", event="purchase", value_field="revenue"), "secondary"),
    ]
    if coupon:
        cost = metric(
            "coupon_cost",
            "mean",
            event="coupon_redeemed",
            value_field="value",
            higher_is_better=False,
        )
        metrics.append((cost, "secondary"))
    exp = experiment_with(metrics, kind=kind)
    Experiment.objects.filter(pk=exp.pk).update(started_at=T0)
    Phase.objects.filter(experiment=exp).update(started_at=T0)
    exp.refresh_from_db()
    prices = {"control": 29, "treatment": 39}
    for v in exp.variants.all():
        v.payload = {"plans": {"pro": prices[v.key]}}
        v.save()
    d = Data(exp)
    rng = np.random.default_rng(5)
    raw = {"control": [], "treatment": []}
    for i in range(1200):
        unit, variant = f"u{i}", ("control", "treatment")[i % 2]
        at = T0 + (i % 96) * H  # four days of arrivals
        d.expose(unit, variant, at)
        rate = 0.30 if variant == "control" else 0.27
        revenue = 0.0
        if rng.random() < rate:
            revenue = prices[variant] * 1.0
            d.event(unit, at + H, value=revenue, properties={"revenue": revenue})
            if coupon and variant == "treatment":
                d.event(unit, at + H, name="coupon_redeemed", value=coupon)
        raw[variant].append(revenue)
    d.save()
    return exp, {k: np.array(v) for k, v in raw.items()}


def test_report__pricing__economics_section_with_break_even_and_per_1000() -> None:
    exp, raw = _experiment("pricing")
    experiment_refresh(experiment=exp, as_of=T0 + 8 * 24 * H)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    section = html.split('id="economics"')[1].split("</section>")[0]
    assert "Scaled impact: per 1,000 exposed users per day" in section
    assert "price 29 → 39" in section and "plans.pro" in section
    # 1 - 29/39 = 25.6%: how far conversion may fall before revenue drops.
    assert "Conversion may fall by up to 25.6% before revenue drops" in section
    rates = {k: (v > 0).mean() for k, v in raw.items()}
    observed = (rates["treatment"] / rates["control"] - 1) * 100
    assert f"<strong>{observed:.1f}%</strong>" in section
    row = section.split('data-variant="treatment"')[1].split("</tr>")[0]
    assert f"{1000 * raw['treatment'].mean():,.0f}" in row  # revenue per 1,000 users
    assert re.search(r"Above break-even|Below break-even|Not yet clear", section)
    assert 'data-x-break-even="' in section
    # 1,200 units over the 8 days from the start to the snapshot's as-of.
    assert "about 150 exposed users a day" in section


def test_report__promotion_with_cost__net_revenue_after_cost() -> None:
    exp, raw = _experiment("promotion", coupon=5.0)
    experiment_refresh(experiment=exp, as_of=T0 + 8 * 24 * H)
    html = client_as("viewer").get(f"/experiments/{exp.key}/results/").content.decode()
    section = html.split('id="economics"')[1].split("</section>")[0]
    assert "Net revenue per user after the promotion's cost" in section
    assert "Price break-even" not in section
    net = raw["treatment"] - 5.0 * (raw["treatment"] > 0)
    row = section.split('class="economics-net"')[1].split('data-variant="treatment"')[1]
    assert f"{net.mean():.2f}" in row.split("</tr>")[0]
    assert "it is conservative" in section


def test_report__onboarding__no_economics_and_htmx_body_has_it_for_pricing() -> None:
    exp, _ = _experiment("onboarding")
    experiment_refresh(experiment=exp, as_of=T0 + 8 * 24 * H)
    viewer = client_as("viewer")
    html = viewer.get(f"/experiments/{exp.key}/results/").content.decode()
    assert 'id="economics"' not in html
    priced, _ = _experiment("pricing")
    experiment_refresh(experiment=priced, as_of=T0 + 8 * 24 * H)
    body = viewer.get(
        f"/experiments/{priced.key}/results/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="report-body"
    )
    text = body.content.decode()
    assert text.lstrip().startswith('<div id="report-body"') and 'id="economics"' in text
