"""Acceptance: simulated traffic with planted effects, sized for 90% power, read back by Verdict.

Each demo scenario runs with a fixed seed and as many users as a two-sided 5% test needs for
90% power on its primary metric (statsmodels' power solver, independent of Verdict), with
higher base rates than the demo so the test stays quick. Then every planted effect must lie
inside Verdict's 95% interval, the primary effect must be significant, and the A/A experiment
must show no significant difference on any metric.
"""

from __future__ import annotations

import math

import pytest
from django.utils import timezone
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from analysis.services.snapshots import experiment_refresh
from analysis.simulation import SCENARIOS, Scenario, scenario_from_dict, simulate, truth_rows

from .helpers import demo_experiment

# Simulated experiments at 90% power: with the long studies (VERDICT_FULL_SUITE=1, -m slow).
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

DAYS = 30
MARGIN = 1.1  # users beyond the expected need, so every arm reaches the powered size
FREQUENTIST = {"method": "frequentist", "correction": "none", "alpha": 0.05}


def _per_arm(p_control: float, p_treatment: float) -> int:
    """Units per arm for 90% power at alpha 0.05 (two-sided), from statsmodels."""
    size = proportion_effectsize(p_treatment, p_control)
    n = NormalIndPower().solve_power(effect_size=abs(size), alpha=0.05, power=0.9)
    return math.ceil(n)


def _scenario(key: str, **control: float) -> Scenario:
    base = SCENARIOS[key]
    return scenario_from_dict(
        {
            "experiment": key,
            "control": {**base.control.__dict__, **control},
            "effects": base.effects,
            "population": base.population,
        }
    )


def _run(key: str, scenario: Scenario, users: int, seed: int) -> list:
    experiment = demo_experiment(key, **FREQUENTIST)
    now = timezone.now()
    simulate(experiment=experiment, scenario=scenario, users=users, days=DAYS, seed=seed, now=now)
    snapshot = experiment_refresh(experiment=experiment, as_of=now)
    return truth_rows(experiment=experiment, scenario=scenario, snapshot=snapshot)


def _assert_planted_effects_found(rows: list, primary: str, per_arm: int) -> None:
    checked = [r for r in rows if r.truth is not None]
    assert checked, "no metric with a planted truth"
    missed = [(r.metric, r.truth, r.ci) for r in checked if not r.covered]
    assert missed == [], f"planted effects outside the 95% interval: {missed}"
    [main] = [r for r in rows if r.metric == primary]
    assert main.units >= per_arm
    assert main.significant, f"{primary}: {main.estimate} {main.ci} not significant"


def test_simulate__pricing_at_90pct_power__conversion_and_revenue_effects_inside_intervals():
    scenario = _scenario("pricing-pro-tier", purchase=0.3)
    per_arm = _per_arm(0.3, 0.27)  # conversion -10% relative
    rows = _run("pricing-pro-tier", scenario, users=math.ceil(MARGIN * per_arm * 2 / 0.9), seed=17)
    assert {r.metric for r in rows if r.truth is not None} >= {"paid_conversion", "arpu", "aov"}
    _assert_planted_effects_found(rows, "paid_conversion", per_arm)


def test_simulate__onboarding_at_90pct_power__d7_retention_two_points_inside_interval():
    scenario = _scenario("onboarding-checklist", d7=0.5)
    per_arm = _per_arm(0.5, 0.52)  # D7 retention +2 points
    mature = (DAYS - 8) / DAYS  # D7 counts units exposed at least 8 days ago
    users = math.ceil(MARGIN * per_arm * 2 / (0.9 * mature))
    rows = _run("onboarding-checklist", scenario, users=users, seed=18)
    _assert_planted_effects_found(rows, "d7_retention", per_arm)


def test_simulate__promotion_at_90pct_power__conversion_up_order_value_down_net_revenue_known():
    scenario = _scenario("new-user-coupon", purchase=0.15)
    per_arm = _per_arm(0.15, 0.15 * 1.25)
    share = 0.5 * 0.9 * 0.95  # coverage, new users, mobile
    rows = _run("new-user-coupon", scenario, users=math.ceil(MARGIN * per_arm * 2 / share), seed=9)
    by_metric = {r.metric: r for r in rows}
    assert by_metric["aov"].truth == pytest.approx(-0.12)
    assert by_metric["net_revenue"].truth is not None
    _assert_planted_effects_found(rows, "paid_conversion", per_arm)


def test_simulate__aa_experiment__no_significant_difference():
    scenario = _scenario("checkout-aa", purchase=0.3)
    per_arm = _per_arm(0.3, 0.27)
    rows = _run("checkout-aa", scenario, users=math.ceil(MARGIN * 2 * per_arm), seed=10)
    assert rows and all(r.truth == 0 for r in rows)
    assert [r.metric for r in rows if r.significant] == []
    assert all(r.covered for r in rows)
