"""The operations teams' metric types and event filters, end to end on the database: known
exposures and events are stored, a snapshot is refreshed, and its per-variant statistics are
checked against an independent computation on the same per-unit data (numpy, scipy, the
delta method written out here, and the targeting evaluator for the filters).

Runs on SQLite by default and on PostgreSQL with DATABASE_URL set; the Spark engine is held to
the same numbers in ``tests/analysis/warehouse/test_spark_equality.py``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from analysis.services.snapshots import experiment_refresh
from experiments.models import Experiment
from experiments.targeting import eval_condition
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.analysis.reference import ratio_relative, welch_relative

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
WINDOW = 72
AS_OF = T0 + dt.timedelta(days=10)
N_PER_ARM = 200

COUPON_NEW10 = {"coupon": "NEW10"}
APP_OR_WEB_PAID = {"channel": {"$in": ["app", "web"]}, "revenue": {"$gt": 0}}
NOT_NEW10 = {"coupon": {"$ne": "NEW10"}}
VIP_OR_NO_COUPON = {"$or": [{"vip": True}, {"coupon": {"$exists": False}}]}
NOT_STORE_BIG = {"$not": {"channel": "store"}, "revenue": {"$gte": 10}}
NOT_STORE = {"channel": {"$nin": ["store"]}}
EXACT_TEN_OR_NULL = {"$or": [{"revenue": 10}, {"note": None}], "vip": {"$not": {"$eq": False}}}

DEFINITIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("mt_repeat_all", "count_threshold", {"min_events": 2}),
    ("mt_repeat", "count_threshold", {"min_events": 2, "among_converted": True}),
    (
        "mt_repeat_app",
        "count_threshold",
        {"min_events": 2, "among_converted": True, "filter": NOT_STORE},
    ),  # fmt: skip
    ("mt_arppu", "conditional_mean", {"value_field": "revenue"}),
    ("mt_arppu_app", "conditional_mean", {"value_field": "revenue", "filter": APP_OR_WEB_PAID}),
    ("mt_days", "distinct_days", {"event": "app_open"}),
    ("mt_coupon", "conversion", {"filter": COUPON_NEW10}),
    ("mt_app_rev", "mean", {"value_field": "revenue", "filter": APP_OR_WEB_PAID}),
    ("mt_not_store", "conversion", {"filter": NOT_STORE_BIG}),
    ("mt_exact", "conversion", {"filter": EXACT_TEN_OR_NULL}),
    (
        "mt_aov_filtered",
        "ratio",
        {
            "event": "",
            "numerator": {"event": "purchase", "value_field": "revenue", "filter": NOT_NEW10},
            "denominator": {"event": "purchase", "value_field": None, "filter": VIP_OR_NO_COUPON},
        },
    ),
]


def _purchase_properties(rng: np.random.Generator) -> dict[str, Any]:
    revenue = float(np.round(rng.exponential(30.0), 2))
    kind = rng.random()
    if kind < 0.1:
        revenue = 0.0  # a free order
    elif kind < 0.15:
        revenue = -20.0  # a correction: the unit's value can drop to 0 or below
    elif kind < 0.25:
        revenue = 10.0
    props: dict[str, Any] = {
        "revenue": revenue,
        "channel": ["app", "web", "store"][int(rng.integers(3))],
        "vip": bool(rng.random() < 0.3),
    }
    coupon = ["NEW10", "SUMMER", None][int(rng.integers(3))]
    if coupon is not None:
        props["coupon"] = coupon
    if rng.random() < 0.2:
        props["note"] = None
    return props


def _simulate(exp: Experiment, seed: int = 25) -> dict[str, list[tuple[dt.datetime, str, dict]]]:
    """Exposures and events (inside and outside the windows); returns each unit's exposure
    time, variant and events for the reference computation."""
    rng = np.random.default_rng(seed)
    d = Data(exp)
    units: dict[str, Any] = {}
    for i in range(2 * N_PER_ARM):
        unit, variant = f"u{i}", ("control", "treatment")[i % 2]
        t0 = (
            T0
            + float(rng.uniform(0, 48)) * H
            + int(rng.integers(1_000_000)) * dt.timedelta(microseconds=1)
        )
        d.expose(unit, variant, t0)
        events: list[tuple[dt.datetime, str, dict]] = []
        rate = 0.9 if variant == "control" else 1.3
        for _ in range(int(rng.poisson(rate))):
            # Up to 96 hours after exposure: some fall after the 72-hour window.
            events.append(
                (t0 + float(rng.uniform(0, 96)) * H, "purchase", _purchase_properties(rng))
            )
        if rng.random() < 0.3:  # before exposure: never counted
            events.append(
                (t0 - float(rng.uniform(0.01, 40)) * H, "purchase", _purchase_properties(rng))
            )
        if i % 13 == 0:  # exactly at exposure (counted) and at the window's end (not counted)
            events.append((t0, "purchase", {"revenue": 10.0, "channel": "app"}))
            events.append((t0 + WINDOW * H, "purchase", {"revenue": 10.0, "channel": "app"}))
        active = 0.35 if variant == "control" else 0.45
        for day in range(5):
            for _ in range(int(rng.random() < active) * int(rng.integers(1, 4))):
                events.append((t0 + (day * 24 + float(rng.uniform(0, 24))) * H, "app_open", {}))
        for at, name, props in events:
            value = props.get("revenue") if name == "purchase" else None
            d.event(unit, at, name, value=value, properties=props)
        units[unit] = (t0, variant, events)
    d.save()
    return units


def _matching(events: list, t0: dt.datetime, name: str, where: dict | None) -> list[dict]:
    """The unit's events of ``name`` in the window whose properties match ``where``, as the
    targeting evaluator (GrowthBook's semantics) decides."""
    end = t0 + WINDOW * H
    return [
        props | {"_at": at}
        for at, event, props in events
        if event == name and t0 <= at < end and eval_condition(props, where or {})
    ]


def _reference(units: dict[str, Any]) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Per metric, per variant, the per-unit columns: ``y`` or ``num``/``den``."""
    out: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for t0, variant, events in units.values():

        def cols(key: str, variant: str = variant, **values: float) -> None:
            for name, v in values.items():
                out[key][variant][name].append(float(v))

        buys = _matching(events, t0, "purchase", None)
        cols("mt_repeat_all", y=len(buys) >= 2)
        cols("mt_repeat", num=len(buys) >= 2, den=len(buys) >= 1)
        app = _matching(events, t0, "purchase", NOT_STORE)
        cols("mt_repeat_app", num=len(app) >= 2, den=len(app) >= 1)
        value = sum(p["revenue"] for p in buys)
        cols("mt_arppu", num=value if value > 0 else 0.0, den=value > 0)
        paid = sum(p["revenue"] for p in _matching(events, t0, "purchase", APP_OR_WEB_PAID))
        cols("mt_arppu_app", num=paid if paid > 0 else 0.0, den=paid > 0)
        cols("mt_app_rev", y=paid)
        opens = _matching(events, t0, "app_open", None)
        cols("mt_days", y=len({p["_at"].date() for p in opens}))
        cols("mt_coupon", y=bool(_matching(events, t0, "purchase", COUPON_NEW10)))
        cols("mt_not_store", y=bool(_matching(events, t0, "purchase", NOT_STORE_BIG)))
        cols("mt_exact", y=bool(_matching(events, t0, "purchase", EXACT_TEN_OR_NULL)))
        num = sum(p["revenue"] for p in _matching(events, t0, "purchase", NOT_NEW10))
        den = len(_matching(events, t0, "purchase", VIP_OR_NO_COUPON))
        cols("mt_aov_filtered", num=num, den=den)
    return {
        key: {
            v: {c: np.array(values) for c, values in by_col.items()} for v, by_col in arms.items()
        }
        for key, arms in out.items()
    }


def _experiment() -> Experiment:
    links = []
    for i, (key, kind, fields) in enumerate(DEFINITIONS):
        fields = {"window_hours": WINDOW, **fields}
        links.append((metric(key, kind, **fields), "primary" if i == 0 else "secondary"))
    return experiment_with(links, cuped=False)


def _row(results: dict[str, Any], key: str, variant: str) -> dict[str, Any]:
    m = next(m for m in results["metrics"] if m["metric"] == key)
    return next(v for v in m["variants"] if v["variant"] == variant)


@pytest.fixture
def refreshed() -> tuple[dict[str, Any], dict[str, Any], Any]:
    exp = _experiment()
    units = _simulate(exp)
    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)
    assert snapshot.status == "ok", snapshot.error
    return snapshot.inputs, snapshot.results, _reference(units)


PROPORTIONS = ("mt_repeat_all", "mt_coupon", "mt_not_store", "mt_exact")
RATIOS = ("mt_repeat", "mt_repeat_app", "mt_arppu", "mt_arppu_app", "mt_aov_filtered")
MEANS = ("mt_days", "mt_app_rev")


def test_snapshot__proportion_types_and_filters__sums_and_results_match_scipy(refreshed) -> None:
    inputs, results, ref = refreshed
    stats = {m["metric"]: m["stats"] for m in inputs["metrics"]}
    for key in PROPORTIONS:
        c, t = ref[key]["control"]["y"], ref[key]["treatment"]["y"]
        assert stats[key]["control"] == {
            "kind": "proportion",
            "n": len(c),
            "conversions": int(c.sum()),
        }, key
        assert stats[key]["treatment"]["conversions"] == int(t.sum()), key
        expected = welch_relative(c, t, proportion=True)
        row = _row(results, key, "treatment")
        assert row["mean"] == pytest.approx(t.mean(), rel=1e-12), key
        assert row["effect"] == pytest.approx(expected["effect"], rel=1e-9), key
        assert row["ci"] == pytest.approx(expected["ci"], rel=1e-9), key
        assert row["p_value_unadjusted"] == pytest.approx(expected["p_value"], rel=1e-6), key
    # The data is what it says: repeat buyers, coupon buyers and non-matching units in both arms.
    assert 0 < ref["mt_repeat_all"]["treatment"]["y"].mean() < 0.5
    assert 0 < ref["mt_coupon"]["control"]["y"].mean() < ref["mt_coupon"]["control"]["y"].size


def test_snapshot__ratio_types_and_filtered_parts__delta_method_matches(refreshed) -> None:
    inputs, results, ref = refreshed
    stats = {m["metric"]: m["stats"] for m in inputs["metrics"]}
    for key in RATIOS:
        arms = ref[key]
        for variant in ("control", "treatment"):
            num, den = arms[variant]["num"], arms[variant]["den"]
            s = stats[key][variant]
            assert s["kind"] == "ratio" and s["n"] == len(num), key
            assert s["numerator_sum"] == pytest.approx(num.sum(), rel=1e-12, abs=1e-9), key
            assert s["denominator_sum"] == pytest.approx(den.sum(), rel=1e-12), key
            assert s["numerator_sum_squares"] == pytest.approx((num**2).sum(), rel=1e-12), key
            assert s["numerator_denominator_sum"] == pytest.approx((num * den).sum(), rel=1e-12)
            assert _row(results, key, variant)["mean"] == pytest.approx(num.sum() / den.sum())
        expected = ratio_relative(
            arms["control"]["num"], arms["control"]["den"],
            arms["treatment"]["num"], arms["treatment"]["den"],
        )  # fmt: skip
        row = _row(results, key, "treatment")
        assert row["effect"] == pytest.approx(expected["effect"], rel=1e-9), key
        assert row["p_value_unadjusted"] == pytest.approx(expected["p_value"], rel=1e-6), key
    # ARPPU is revenue per paying unit: above ARPU, since non-payers leave the denominator.
    arppu = ref["mt_arppu"]["treatment"]
    assert arppu["num"].sum() / arppu["den"].sum() > arppu["num"].mean()
    # The numerator of 复购率 counts a subset of its denominator's units.
    repeat = ref["mt_repeat"]["control"]
    assert 0 < repeat["num"].sum() < repeat["den"].sum() < N_PER_ARM


def test_snapshot__distinct_days_and_filtered_mean__welch_matches(refreshed) -> None:
    inputs, results, ref = refreshed
    stats = {m["metric"]: m["stats"] for m in inputs["metrics"]}
    for key in MEANS:
        c, t = ref[key]["control"]["y"], ref[key]["treatment"]["y"]
        assert stats[key]["treatment"]["sum"] == pytest.approx(t.sum(), rel=1e-12), key
        assert stats[key]["treatment"]["sum_squares"] == pytest.approx((t**2).sum(), rel=1e-12)
        row = _row(results, key, "treatment")
        assert row["mean"] == pytest.approx(t.mean(), rel=1e-12), key
        assert row["effect"] == pytest.approx(welch_relative(c, t)["effect"], rel=1e-9), key
        welch = sps.ttest_ind(t, c, equal_var=False)
        assert row["absolute_ci"] == pytest.approx(list(welch.confidence_interval(0.95)), rel=1e-9)
    days = ref["mt_days"]["treatment"]["y"]
    # Several opens on one day count once; a 72-hour window spans at most four UTC days.
    assert days.max() <= 4 and (days >= 2).any()


def test_filters__missing_property_and_other_types__typed_comparisons(db: None) -> None:
    """A comparison with an absent property, or one of another JSON type, does not match
    (GrowthBook's JavaScript would read ``null < 5`` and ``"7" > 5`` as true); a negation
    matches it."""
    lt5 = metric("f_lt5", filter={"v": {"$lt": 5}}, window_hours=WINDOW)
    not_lt5 = metric("f_not_lt5", filter={"v": {"$not": {"$lt": 5}}}, window_hours=WINDOW)
    text = metric("f_text", filter={"v": "7"}, window_hours=WINDOW)
    flag = metric("f_true", filter={"v": True}, window_hours=WINDOW)
    exp = experiment_with(
        [(lt5, "primary"), (not_lt5, "secondary"), (text, "secondary"), (flag, "secondary")]
    )
    d = Data(exp)
    values: list[Any] = [None, 3, 7, "7", True, "true", 1]
    for i, v in enumerate(values):
        d.expose(f"u{i}", "control", T0)
        d.event(f"u{i}", T0 + H, "purchase", properties={} if v is None else {"v": v})
    d.save()
    inputs = experiment_refresh(experiment=exp, as_of=AS_OF).inputs
    got = {m["metric"]: m["stats"]["control"]["conversions"] for m in inputs["metrics"]}
    # lt5: 3 and 1 (not True); not lt5: the other five; "7" as text once; true once.
    assert got == {"f_lt5": 2, "f_not_lt5": 5, "f_text": 1, "f_true": 1}


def test_public_apis__repurchase_arppu_and_active_days__served_results_match_numpy(
    editor, app_client, viewer, settings, django_capture_on_commit_callbacks
) -> None:
    """Defined, assigned, sent and read through the HTTP APIs: 复购率 on NEW10 orders, ARPPU
        and distinct active days, against the delta method and Welch on the simulated units. Events
    stay within the API's 24 hours of clock skew, so the window is 20 hours."""
    from django.utils import timezone

    settings.VERDICT_DEFINITIONS_CHECK_SECONDS = 0
    definitions = [
        {"key": "api_repeat", "name": "复购率", "type": "count_threshold", "event": "purchase",
         "min_events": 2, "among_converted": True, "filter": {"coupon": "NEW10"}},
        {"key": "api_arppu", "name": "ARPPU", "type": "conditional_mean", "event": "purchase",
         "value_field": "revenue"},
        {"key": "api_days", "name": "Active days", "type": "distinct_days", "event": "app_open"},
    ]  # fmt: skip
    for body in definitions:
        response = editor.post("/api/v1/metrics", {"window_hours": 20, **body}, format="json")
        assert response.status_code == 201, response.json()
    key = "ops-metrics"
    created = editor.post(
        "/api/v1/experiments",
        {
            "key": key,
            "name": "Ops",
            "variants": [
                {"key": "control", "name": "Control", "weight": 1, "is_control": True},
                {"key": "treatment", "name": "Treatment", "weight": 1},
            ],
            "metrics": [
                {"metric": "api_repeat", "role": "primary"},
                {"metric": "api_arppu", "role": "secondary"},
                {"metric": "api_days", "role": "secondary"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(f"/api/v1/experiments/{key}/start").status_code == 200

    rng = np.random.default_rng(7)
    after_assign: dict[str, str] = {}
    for i in range(160):
        unit = f"user-{i}"
        response = app_client.post(
            "/api/v1/assign", {"unit_id": unit, "experiments": [key]}, format="json"
        )
        assert response.status_code == 200, response.content
        after_assign[unit] = response.json()["assignments"][0]["variant"]
    start = timezone.now()
    events: list[dict[str, Any]] = []
    columns: dict[str, dict[str, list[tuple[float, ...]]]] = defaultdict(lambda: defaultdict(list))
    for n, (unit, variant) in enumerate(after_assign.items()):
        orders = int(rng.poisson(1.0 if variant == "control" else 1.4))
        new10, revenue = 0, 0.0
        for k in range(orders):
            coupon = "NEW10" if rng.random() < 0.6 else "SUMMER"
            value = float(np.round(rng.exponential(40.0), 2)) if rng.random() < 0.85 else 0.0
            at = start + (1 + k) * H
            props = {"coupon": coupon, "revenue": value}
            events.append({"event_id": f"p{n}-{k}", "unit_id": unit, "event": "purchase",
                           "timestamp": at.isoformat(), "properties": props})  # fmt: skip
            new10 += coupon == "NEW10"
            revenue += value
        days = {d for d in range(3) if rng.random() < 0.5}
        for d in days:
            at = start + (d * 8 + 1) * H
            events.append({"event_id": f"o{n}-{d}", "unit_id": unit, "event": "app_open",
                           "timestamp": at.isoformat()})  # fmt: skip
        # After the 20-hour window: never counted.
        events.append({"event_id": f"late{n}", "unit_id": unit, "event": "purchase",
                       "timestamp": (start + 22 * H).isoformat(),
                       "properties": {"coupon": "NEW10", "revenue": 999.0}})  # fmt: skip
        # Active days are UTC calendar days: whether 1 h and 17 h from now fall on one day
        # depends on the clock, so the reference reads the same timestamps' dates.
        active = len({(start + (d * 8 + 1) * H).date() for d in days})
        columns["repeat"][variant].append((float(new10 >= 2), float(new10 >= 1)))
        columns["arppu"][variant].append((revenue if revenue > 0 else 0.0, float(revenue > 0)))
        columns["days"][variant].append((float(active),))
    for first in range(0, len(events), 500):
        response = app_client.post(
            "/api/v1/events", {"events": events[first : first + 500]}, format="json"
        )
        assert response.status_code == 200 and response.json()["rejected"] == []
    experiment_refresh(experiment=Experiment.objects.get(key=key), as_of=start + 23 * H)
    served = viewer.get(f"/api/v1/experiments/{key}/results").json()

    def arm(name: str, variant: str, col: int) -> np.ndarray:
        return np.array([row[col] for row in columns[name][variant]])

    for name, metric_key in (("repeat", "api_repeat"), ("arppu", "api_arppu")):
        expected = ratio_relative(
            arm(name, "control", 0), arm(name, "control", 1),
            arm(name, "treatment", 0), arm(name, "treatment", 1),
        )  # fmt: skip
        row = _row(served, metric_key, "treatment")
        assert row["mean"] == pytest.approx(expected["ratio"], rel=1e-12), metric_key
        assert row["effect"] == pytest.approx(expected["effect"], rel=1e-9), metric_key
        assert row["p_value_unadjusted"] == pytest.approx(expected["p_value"], rel=1e-6)
    c, t = arm("days", "control", 0), arm("days", "treatment", 0)
    row = _row(served, "api_days", "treatment")
    assert row["mean"] == pytest.approx(t.mean(), rel=1e-12)
    assert row["effect"] == pytest.approx(welch_relative(c, t)["effect"], rel=1e-9)
