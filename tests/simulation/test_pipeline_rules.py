"""The simulator exercises the pipeline's rules, and the pipeline keeps them: each acknowledged
event and exposure is stored exactly once; retries, late events and events from units never
exposed change nothing they should not."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from analysis.models import PlantedEffect
from analysis.services.snapshots import experiment_refresh
from analysis.simulation import SCENARIOS, simulate
from analysis.simulation.scenarios import Behaviour, behaviour_with, scenario_from_dict, true_effect
from assignment.models import Event, Exposure

from .helpers import demo_experiment

pytestmark = pytest.mark.django_db


def test_simulate__retries_late_and_unexposed__each_acknowledged_event_and_exposure_stored_once():
    experiment = demo_experiment("new-user-coupon")
    result = simulate(
        experiment=experiment, scenario=SCENARIOS["new-user-coupon"], users=3000, days=20, seed=5
    )
    assert result.retried > 0 and result.duplicates == result.retried
    assert result.late > 0 and result.unexposed_events > 0
    stored_ids = list(Event.objects.values_list("event_id", flat=True))
    assert len(stored_ids) == len(set(stored_ids)) == result.accepted
    assert set(stored_ids) == result.acknowledged_event_ids
    exposures = list(
        Exposure.objects.filter(experiment=experiment).values_list("unit_id", flat=True)
    )
    assert len(exposures) == len(set(exposures)) == len(result.exposure_units)
    assert set(exposures) == result.exposure_units

    snapshot = experiment_refresh(experiment=experiment)
    assert snapshot.inputs["units"] == dict(result.exposed)  # unexposed units are left out


def test_simulate__same_seed_twice__nothing_stored_twice():
    experiment = demo_experiment("checkout-aa")
    now = timezone.now()
    first = simulate(
        experiment=experiment,
        scenario=SCENARIOS["checkout-aa"],
        users=500,
        days=10,
        seed=3,
        now=now,
    )
    again = simulate(
        experiment=experiment,
        scenario=SCENARIOS["checkout-aa"],
        users=500,
        days=10,
        seed=3,
        now=now,
    )
    assert again.accepted == 0 and again.duplicates == again.events_sent
    assert Event.objects.count() == first.accepted
    assert Exposure.objects.count() == sum(first.exposed.values())


def test_simulate_command__draft_experiment__clear_error():
    experiment = demo_experiment("checkout-aa")
    experiment.status = "draft"
    experiment.save()
    with pytest.raises(CommandError, match="start it to send traffic"):
        call_command("simulate", "checkout-aa", "--users", "10", stdout=io.StringIO())


def test_simulate_command__effect_for_unknown_variant__clear_error():
    demo_experiment("checkout-aa")
    with pytest.raises(CommandError, match=r"unknown variant\(s\) \['zz'\]"):
        call_command(
            "simulate",
            "checkout-aa",
            "--effects",
            '{"zz": {"conversion": 0.1}}',
            stdout=io.StringIO(),
        )


def test_simulate_command__small_run__prints_truth_beside_estimate():
    demo_experiment("pricing-pro-tier")
    out = io.StringIO()
    call_command("simulate", "pricing-pro-tier", "--users", "1500", "--days", "10", stdout=out)
    text = out.getvalue()
    assert "planted" in text and "95% interval" in text and "covers truth" in text
    assert "paid_conversion  pro39" in text and "-10.0%" in text
    planted = dict(
        PlantedEffect.objects.filter(experiment__key="pricing-pro-tier").values_list(
            "metric", "effect"
        )
    )
    assert planted["paid_conversion"] == pytest.approx(-0.10)  # the report shows it
    assert planted["arpu"] == pytest.approx(0.08)


def test_simulate_command__per_call__same_counts_printed_as_stored():
    experiment = demo_experiment("checkout-aa")
    out = io.StringIO()
    args = ("--users", "300", "--days", "5", "--per-call", "--no-refresh")
    call_command("simulate", "checkout-aa", *args, stdout=out)
    stored = Event.objects.count()
    assert f"{stored:,} stored" in out.getvalue()
    assert Exposure.objects.filter(experiment=experiment).count() == 300


def test_behaviour_with__revenue_per_user_and_conversion__order_value_makes_up_the_rest():
    control = Behaviour(purchase=0.1, order_value=50.0, repeat=0.5)
    pro39 = behaviour_with(control, {"conversion": -0.10, "revenue_per_user": 0.08})
    assert pro39.purchase == pytest.approx(0.09)
    assert pro39.revenue_per_user / control.revenue_per_user == pytest.approx(1.08)
    arpu = {"type": "mean", "event": "purchase", "value_field": "revenue"}
    assert true_effect(arpu, control, pro39) == pytest.approx(0.08)
    aov = {
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
    }
    assert true_effect(aov, control, pro39) == pytest.approx(1.08 / 0.9 - 1)


def test_true_effect__arppu_and_repurchase__per_buyer_revenue_and_geometric_extras():
    control = Behaviour(purchase=0.1, order_value=50.0, repeat=0.5)
    variant = Behaviour(purchase=0.12, order_value=44.0, repeat=1.0)
    arppu = {"type": "conditional_mean", "event": "purchase", "value_field": "revenue"}
    assert true_effect(arppu, control, variant) == pytest.approx((2 * 44.0) / (1.5 * 50.0) - 1)
    again = {"type": "count_threshold", "event": "purchase", "min_events": 2}
    # Buying again: 1/2 of buyers against 1/3; among all users 0.12 * 1/2 against 0.1 * 1/3.
    assert true_effect({**again, "among_converted": True}, control, variant) == pytest.approx(0.5)
    assert true_effect(again, control, variant) == pytest.approx(0.06 / (0.1 / 3) - 1)
    # A filtered metric measures what the simulator does not model.
    assert true_effect({**arppu, "filter": {"coupon": "NEW10"}}, control, variant) is None
    # The geometric extras the simulator draws: a buyer buys again with repeat / (1 + repeat).
    rng = np.random.default_rng(7)
    extra = rng.geometric(1 - 0.5 / 1.5, 200_000) - 1
    assert (extra >= 1).mean() == pytest.approx(1 / 3, abs=0.005)


def test_behaviour_with__retention_points__absolute_change():
    control = Behaviour(d7=0.25)
    checklist = behaviour_with(control, {"d7_retention": 0.02})
    d7 = {"type": "retention", "event": "app_open", "retention_day": 7}
    assert checklist.d7 == pytest.approx(0.27)
    assert true_effect(d7, control, checklist) == pytest.approx(0.02 / 0.25)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"experiment": "x", "effects": {"b": {"lift": 0.1}}}, "Unknown effect"),
        ({"experiment": "x", "effects": {"b": {"conversion": 30}}}, "not in 0-1"),
        ({"experiment": "x", "control": {"colour": 1}}, "behaviour fields"),
        ({"effects": {}}, '"experiment"'),
    ],
)
def test_scenario_from_dict__bad_scenario__says_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        scenario_from_dict(data)


def test_bulk_events__variant_halves_purchases__history_before_exposure_alike_in_both_arms():
    # A variant acts from exposure on: returning users' purchases before it must not depend
    # on the arm (history segments would see a sample ratio mismatch that no app could cause).
    import datetime as dt

    from analysis.simulation.bulk import user_chunk_events

    n = 40_000
    control = Behaviour(purchase=0.3, order_value=50.0)
    variant = Behaviour(purchase=0.15, order_value=80.0)
    arm = np.arange(n) % 2
    t0 = np.full(n, dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp())
    items, owner = user_chunk_events(
        np.random.default_rng(3),
        unit_ids=[f"u{i}" for i in range(n)],
        behaviours=[control, variant],
        behaviour_index=arm,
        t0=t0,
        returning=np.ones(n, dtype=bool),
        now=t0[0] + 30 * 86400,
    )
    before = {0: 0, 1: 0}
    after = {0: 0, 1: 0}
    for item, user in zip(items, owner, strict=True):
        if item["event"] != "purchase":
            continue
        at = dt.datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00")).timestamp()
        (before if at < t0[user] else after)[int(arm[user])] += 1
    # Before exposure: the same rate in both arms (about 0.3 of 20,000 each, a few SE apart
    # at most); after it, the variant's lower purchase rate shows.
    assert abs(before[0] - before[1]) < 5 * np.sqrt(before[0] + before[1])
    assert after[1] < 0.7 * after[0]
