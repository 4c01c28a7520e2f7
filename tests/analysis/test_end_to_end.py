"""End to end through the public APIs: define and start an experiment, assign units, send
events (inside and outside the windows, duplicates, a QA unit, a unit exposed twice), refresh,
and check the served numbers against scipy/statsmodels on the same simulated per-unit data."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest
from django.utils import timezone
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from assignment.models import Exposure
from experiments.models import Experiment
from tests.analysis.reference import ratio_relative, welch_relative

H = dt.timedelta(hours=1)
WINDOW_HOURS = 6
N_UNITS = 600
METRICS = [
    {"key": "e2e_paid", "name": "Paid", "type": "conversion", "event": "purchase"},
    {
        "key": "e2e_arpu",
        "name": "ARPU",
        "type": "mean",
        "event": "purchase",
        "value_field": "revenue",
    },
    {
        "key": "e2e_aov",
        "name": "AOV",
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
    },
    {
        "key": "e2e_refunds",
        "name": "Refunds",
        "type": "conversion",
        "event": "refund",
        "higher_is_better": False,
    },
]


def test_end_to_end__simulated_experiment__results_match_scipy(
    editor, app_client, viewer, settings, django_capture_on_commit_callbacks
) -> None:
    rng = np.random.default_rng(2026)
    # Apps see definition changes (overrides) at once instead of within a second.
    settings.VERDICT_DEFINITIONS_CHECK_SECONDS = 0

    # Define and start the experiment through the control-plane API.
    for m in METRICS:
        body = {"window_hours": WINDOW_HOURS, **m}
        assert editor.post("/api/v1/metrics", body, format="json").status_code == 201
    key = "e2e-pricing"
    created = editor.post(
        "/api/v1/experiments",
        {
            "key": key,
            "name": "E2E",
            "kind": "pricing",
            "variants": [
                {"key": "control", "name": "Control", "weight": 1, "is_control": True},
                {"key": "treatment", "name": "Treatment", "weight": 1},
            ],
            "metrics": [
                {"metric": "e2e_paid", "role": "primary"},
                {"metric": "e2e_arpu", "role": "secondary"},
                {"metric": "e2e_aov", "role": "secondary"},
                {"metric": "e2e_refunds", "role": "guardrail"},
            ],
            "analysis_plan": {"alpha": 0.05, "method": "frequentist", "correction": "holm"},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(f"/api/v1/experiments/{key}/start").status_code == 200

    # A QA unit forced into treatment (definition changes reach the assign cache on commit).
    override = {"unit_id": "qa-1", "variant": "treatment"}
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(f"/api/v1/experiments/{key}/overrides", override, format="json")
    assert response.status_code == 201

    def assign(unit: str, attributes: dict | None = None) -> str:
        response = app_client.post(
            "/api/v1/assign",
            {"unit_id": unit, "attributes": attributes or {}, "experiments": [key]},
            format="json",
        )
        assert response.status_code == 200, response.content
        (a,) = response.json()["assignments"]
        assert a["in_experiment"], a
        return a["variant"]

    before = timezone.now()
    variants: dict[str, str] = {}
    for i in range(N_UNITS):
        unit = f"user-{i}"
        variants[unit] = assign(unit, {"platform": ("ios", "android")[i % 2], "country": "CN"})
    assign("qa-1")
    # A unit exposed twice: hashed first, then forced into the other variant.
    twice = "user-0"
    other = "treatment" if variants[twice] == "control" else "control"
    override = {"unit_id": twice, "variant": other}
    with django_capture_on_commit_callbacks(execute=True):
        editor.post(f"/api/v1/experiments/{key}/overrides", override, format="json")
    assert assign(twice) == other
    after = timezone.now()
    assert Exposure.objects.get(unit_id=twice).multiple_variants

    # Simulate per-unit behaviour; events inside the window are 1-5 h after exposure.
    events: list[dict] = []
    per_unit: dict[str, dict[str, float]] = {}

    def event(unit: str, name: str, at: dt.datetime, value: float | None = None) -> None:
        events.append(
            {
                "event_id": str(uuid.uuid4()),
                "unit_id": unit,
                "event": name,
                "timestamp": at.isoformat(),
                "value": value,
            }
        )

    for unit, variant in variants.items():
        p_buy, scale = (0.15, 30.0) if variant == "control" else (0.35, 36.0)
        revenue, orders, refunded = 0.0, 0, 0
        if rng.random() < p_buy:
            for k in range(1 + rng.poisson(0.6)):
                value = round(float(rng.exponential(scale)), 2)
                event(unit, "purchase", after + H + k * dt.timedelta(minutes=20), value)
                revenue, orders = revenue + value, orders + 1
        if rng.random() < 0.05:
            event(unit, "refund", after + 2 * H)
            refunded = 1
        # Outside the windows: before exposure and after the 6-hour window.
        if rng.random() < 0.2:
            event(unit, "purchase", before - 2 * H, 500.0)
        if rng.random() < 0.2:
            event(unit, "purchase", before + (WINDOW_HOURS + 1) * H, 500.0)
        per_unit[unit] = {
            "buy": float(orders > 0),
            "rev": revenue,
            "orders": orders,
            "ref": refunded,
        }
    for unit in ("qa-1", twice):
        event(unit, "purchase", after + H, 1000.0)

    for start in range(0, len(events), 1000):
        batch = {"events": events[start : start + 1000]}
        response = app_client.post("/api/v1/events", batch, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["rejected"] == []
    # A client retry of the first batch stores nothing twice.
    replay = app_client.post("/api/v1/events", {"events": events[:300]}, format="json").json()
    assert (replay["accepted"], replay["duplicates"]) == (0, 300)

    # Refresh through the API (202), then once more with as_of after the last event.
    assert editor.post(f"/api/v1/experiments/{key}/results/refresh").status_code == 202
    experiment = Experiment.objects.get(key=key)
    experiment_refresh(experiment=experiment, as_of=after + 12 * H)
    assert ResultSnapshot.objects.filter(experiment=experiment, status="ok").exists()
    r = viewer.get(f"/api/v1/experiments/{key}/results").json()
    assert r["as_of"] == (after + 12 * H).isoformat()

    # The reference numbers, from the simulated per-unit data (the twice-exposed unit is out).
    arms = {"control": [], "treatment": []}
    for unit, variant in variants.items():
        if unit != twice:
            arms[variant].append(per_unit[unit])

    def col(variant: str, name: str) -> np.ndarray:
        return np.array([u[name] for u in arms[variant]], dtype=float)

    n_c, n_t = len(arms["control"]), len(arms["treatment"])
    assert r["units"]["by_variant"] == {"control": n_c, "treatment": n_t}
    assert r["units"]["excluded"] == {"forced": 2, "multiple_variants": 1, "total": 2}
    assert r["srm"]["p_value"] == pytest.approx(sps.chisquare([n_c, n_t]).pvalue, rel=1e-9)

    def row(metric: str) -> dict:
        m = next(x for x in r["metrics"] if x["metric"] == metric)
        return next(v for v in m["variants"] if v["variant"] == "treatment")

    paid = welch_relative(col("control", "buy"), col("treatment", "buy"), proportion=True)
    arpu = welch_relative(col("control", "rev"), col("treatment", "rev"))
    aov = ratio_relative(
        col("control", "rev"),
        col("control", "orders"),
        col("treatment", "rev"),
        col("treatment", "orders"),
    )
    refunds = welch_relative(col("control", "ref"), col("treatment", "ref"), proportion=True)

    assert row("e2e_paid")["mean"] == pytest.approx(col("treatment", "buy").mean())
    assert row("e2e_paid")["effect"] == pytest.approx(paid["effect"], rel=1e-9)
    assert row("e2e_paid")["ci"] == pytest.approx(paid["ci"], rel=1e-9)
    assert row("e2e_arpu")["mean"] == pytest.approx(col("treatment", "rev").mean())
    assert row("e2e_arpu")["effect"] == pytest.approx(arpu["effect"], rel=1e-9)
    welch = sps.ttest_ind(col("treatment", "rev"), col("control", "rev"), equal_var=False)
    assert row("e2e_arpu")["absolute_ci"] == pytest.approx(
        list(welch.confidence_interval(0.95)), rel=1e-9
    )
    assert row("e2e_aov")["mean"] == pytest.approx(aov["ratio"])
    assert row("e2e_aov")["effect"] == pytest.approx(aov["effect"], rel=1e-9)

    raw = [paid["p_value"], arpu["p_value"], aov["p_value"]]
    holm = multipletests(raw, method="holm")[1]
    for metric, p_raw, p_adj in zip(("e2e_paid", "e2e_arpu", "e2e_aov"), raw, holm, strict=True):
        assert row(metric)["p_value_unadjusted"] == pytest.approx(p_raw, rel=1e-6)
        assert row(metric)["p_value"] == pytest.approx(p_adj, rel=1e-6)
        assert row(metric)["significant"] == (p_adj < 0.05)
    assert row("e2e_refunds")["p_value"] == pytest.approx(refunds["p_value"], rel=1e-6)

    # The effect is large enough to call: ship treatment; health names the twice-exposed unit.
    assert row("e2e_paid")["significant"] is True
    assert r["decision"]["recommendation"] == "ship"
    assert r["decision"]["variant"] == "treatment"
    assert {h["check"] for h in r["health"]} == {"multiple_exposures"}
    assert {s["attribute"] for s in r["segments"]} == {"platform", "country"}
