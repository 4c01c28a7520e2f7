"""A guardrail driven to zero in one arm: the relative effect cannot be computed, so
significance and direction fall back to the absolute difference (tested exactly), the alarm
fires and the decision is not "ship". End to end through the public APIs, and on stored
inputs. References: scipy's Fisher exact test on the 2x2 tables."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from django.utils import timezone
from scipy import stats as sps

from analysis.engine.results import results_compute
from assignment.hashing import hash_fraction
from experiments.models import Experiment
from tests.analysis.reference import conversion, plan, synthetic_inputs
from tests.analysis.words import in_english

# The counts: (units, conversions) per arm.
CONTROL_UNITS, TREATMENT_UNITS = 1_387, 1_414
PRIMARY = ((CONTROL_UNITS, 139), (TREATMENT_UNITS, 283))  # 10.0% -> 20.0%: clearly better


def _fisher(control: tuple[int, int], treatment: tuple[int, int]) -> float:
    (nc, kc), (nt, kt) = control, treatment
    return float(sps.fisher_exact([[kt, nt - kt], [kc, nc - kc]]).pvalue)


def _compute(guard: tuple[tuple[int, int], tuple[int, int]], *, higher_is_better: bool) -> dict:
    inputs = synthetic_inputs(
        [
            {"metric": "paid", "stats": conversion(*PRIMARY)},
            {
                "metric": "guard",
                "role": "guardrail",
                "higher_is_better": higher_is_better,
                "stats": conversion(*guard),
            },
        ]
    )
    return results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")


def _treatment(results: dict[str, Any], metric: str) -> dict[str, Any]:
    m = next(m for m in results["metrics"] if m["metric"] == metric)
    return next(v for v in m["variants"] if not v["is_control"])


# Stored inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guard", "higher_is_better", "status"),
    [
        (((CONTROL_UNITS, 42), (TREATMENT_UNITS, 0)), True, "zero_variance"),
        (((TREATMENT_UNITS, 0), (TREATMENT_UNITS, 50)), False, "zero_control_mean"),
    ],
)
def test_results__guardrail_zero_in_one_arm__absolute_fallback_worse_and_keep_control(
    guard, higher_is_better, status
) -> None:
    r = _compute(guard, higher_is_better=higher_is_better)
    assert _treatment(r, "paid")["outcome"] == "better"
    row = _treatment(r, "guard")
    assert row["status"] == status  # the relative effect could not be computed
    assert row["significance_basis"] == "absolute"
    assert row["test"] == "fisher_exact"
    assert row["p_value"] == pytest.approx(_fisher(*guard), rel=1e-9)
    assert (row["significant"], row["outcome"]) == (True, "worse")
    assert row["effect"] is None and row["ci"] is None
    assert [h["condition"] for h in r["health"]] == ["guardrail_worse:guard:treatment"]
    assert r["decision"]["recommendation"] == "keep_control"
    assert any(
        "guard is significantly worse" in reason for reason in in_english(r)["decision"]["reasons"]
    )


def test_results__guardrail_one_conversion_in_treatment__relative_basis_still_alarms() -> None:
    r = _compute(((CONTROL_UNITS, 42), (TREATMENT_UNITS, 1)), higher_is_better=True)
    row = _treatment(r, "guard")
    assert (row["status"], row["significance_basis"], row["outcome"]) == (
        "ok",
        "relative",
        "worse",
    )
    assert r["decision"]["recommendation"] == "keep_control"


def test_decision__guardrail_interval_harmful_but_exact_test_not_significant__no_ship() -> None:
    # At alpha 0.03, 5/20 -> 0/20 on a higher-is-better guardrail: Fisher's p ≈ 0.047 is not
    # significant, but the absolute interval (normal approximation, about -0.46 to -0.04)
    # lies wholly on the harmful side of zero.
    guard = ((20, 5), (20, 0))
    assert _fisher(*guard) > 0.03
    inputs = synthetic_inputs(
        [
            {"metric": "paid", "stats": conversion((20_000, 2_000), (20_000, 2_400))},
            {"metric": "guard", "role": "guardrail", "stats": conversion(*guard)},
        ],
        units={"control": 20_000, "treatment": 20_000},
    )
    r = results_compute(inputs=inputs, plan=plan(alpha=0.03), computed_at="x", engine_version="t")
    row = _treatment(r, "guard")
    assert (row["significant"], row["outcome"]) == (False, "not_significant")
    assert row["absolute_ci"][1] < 0
    assert _treatment(r, "paid")["outcome"] == "better"
    assert r["decision"]["recommendation"] == "keep_control"
    assert any("harmful side of zero" in reason for reason in in_english(r)["decision"]["reasons"])
    assert [h["check"] for h in r["health"]] == ["guardrail_worse"]


def test_results__primary_zero_in_control_and_significant_lift__absolute_basis_ships() -> None:
    inputs = synthetic_inputs(
        [{"metric": "paid", "stats": conversion((TREATMENT_UNITS, 0), (TREATMENT_UNITS, 50))}]
    )
    r = results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")
    row = _treatment(r, "paid")
    assert (row["status"], row["significance_basis"], row["outcome"]) == (
        "zero_control_mean",
        "absolute",
        "better",
    )
    assert r["decision"]["recommendation"] == "ship"
    assert "absolute" in in_english(r)["decision"]["reasons"][0]


# End to end through the public APIs ---------------------------------------------------------


def _units_for(seed: str, control: int, treatment: int) -> dict[str, str]:
    """Unit ids that hash into each arm (equal weights, full coverage) in the wanted numbers."""
    wanted = {"control": control, "treatment": treatment}
    out: dict[str, str] = {}
    for i in itertools.count():
        unit = f"zu-{i}"
        variant = "control" if hash_fraction(seed, unit) < 0.5 else "treatment"
        if wanted[variant] > 0:
            out[unit] = variant
            wanted[variant] -= 1
        if not any(wanted.values()):
            return out
    raise AssertionError("unreachable")


def _end_to_end(
    editor,
    app_client,
    viewer,
    capture,
    *,
    key: str,
    guard_event: str,
    higher_is_better: bool,
    guard_conversions: tuple[int, int],
    units: tuple[int, int] = (CONTROL_UNITS, TREATMENT_UNITS),
) -> dict[str, Any]:
    metrics = [
        {"key": f"{key}-paid", "name": "Paid", "type": "conversion", "event": "purchase"},
        {
            "key": f"{key}-guard",
            "name": "Guard",
            "type": "conversion",
            "event": guard_event,
            "higher_is_better": higher_is_better,
        },
    ]
    for m in metrics:
        response = editor.post("/api/v1/metrics", {"window_hours": 24, **m}, format="json")
        assert response.status_code == 201, response.json()
    created = editor.post(
        "/api/v1/experiments",
        {
            "key": key,
            "name": key,
            "variants": [
                {"key": "control", "name": "Control", "weight": 1, "is_control": True},
                {"key": "treatment", "name": "Treatment", "weight": 1},
            ],
            "metrics": [
                {"metric": f"{key}-paid", "role": "primary"},
                {"metric": f"{key}-guard", "role": "guardrail"},
            ],
            "analysis_plan": {"alpha": 0.05, "method": "frequentist", "correction": "none"},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    with capture(execute=True):
        assert editor.post(f"/api/v1/experiments/{key}/start").status_code == 200

    seed = Experiment.objects.get(key=key).hash_seed
    assigned = _units_for(seed, *units)
    for unit, variant in assigned.items():
        response = app_client.post(
            "/api/v1/assign", {"unit_id": unit, "experiments": [key]}, format="json"
        )
        assert response.status_code == 200, response.content
        (a,) = response.json()["assignments"]
        assert (a["in_experiment"], a["variant"]) == (True, variant)

    # Events at the moment the last unit was exposed: inside every unit's window.
    at = timezone.now().isoformat()
    arms = {v: [u for u, w in assigned.items() if w == v] for v in ("control", "treatment")}
    converted = {
        "purchase": {"control": PRIMARY[0][1], "treatment": PRIMARY[1][1]},
        guard_event: dict(zip(("control", "treatment"), guard_conversions, strict=True)),
    }
    events = [
        {"event_id": str(uuid.uuid4()), "unit_id": unit, "event": name, "timestamp": at}
        for name, per_arm in converted.items()
        for variant, k in per_arm.items()
        for unit in arms[variant][:k]
    ]
    for start in range(0, len(events), 1000):
        response = app_client.post(
            "/api/v1/events", {"events": events[start : start + 1000]}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["rejected"] == []

    with capture(execute=True):
        refresh = editor.post(f"/api/v1/experiments/{key}/results/refresh")
    assert refresh.status_code == 202
    response = viewer.get(f"/api/v1/experiments/{key}/results")
    assert response.status_code == 200, response.content
    return response.json()


def test_end_to_end__higher_is_better_guardrail_falls_to_zero__keep_control(
    editor, app_client, viewer, django_capture_on_commit_callbacks
) -> None:
    r = _end_to_end(
        editor,
        app_client,
        viewer,
        django_capture_on_commit_callbacks,
        key="zero-guard-a",
        guard_event="save_cart",
        higher_is_better=True,
        guard_conversions=(42, 0),
    )
    assert r["units"]["by_variant"] == {"control": CONTROL_UNITS, "treatment": TREATMENT_UNITS}
    assert _treatment(r, "zero-guard-a-paid")["outcome"] == "better"
    guard = _treatment(r, "zero-guard-a-guard")
    assert guard["status"] == "zero_variance"
    assert (guard["significance_basis"], guard["test"]) == ("absolute", "fisher_exact")
    reference = _fisher((CONTROL_UNITS, 42), (TREATMENT_UNITS, 0))
    assert reference == pytest.approx(1.1e-13, rel=0.01)
    assert guard["p_value"] == pytest.approx(reference, rel=1e-9)
    assert guard["outcome"] == "worse"
    assert guard["absolute_ci"][1] < 0
    assert "guardrail_worse" in {h["check"] for h in r["health"]}
    assert r["decision"]["recommendation"] == "keep_control"
    assert r["srm"]["level"] == "ok"


def test_end_to_end__lower_is_better_guardrail_from_zero_in_control__keep_control(
    editor, app_client, viewer, django_capture_on_commit_callbacks
) -> None:
    r = _end_to_end(
        editor,
        app_client,
        viewer,
        django_capture_on_commit_callbacks,
        key="zero-guard-b",
        guard_event="refund",
        higher_is_better=False,
        guard_conversions=(0, 50),
        units=(TREATMENT_UNITS, TREATMENT_UNITS),
    )
    assert _treatment(r, "zero-guard-b-paid")["outcome"] == "better"
    guard = _treatment(r, "zero-guard-b-guard")
    assert guard["status"] == "zero_control_mean"
    assert (guard["significance_basis"], guard["test"]) == ("absolute", "fisher_exact")
    assert guard["p_value"] == pytest.approx(
        _fisher((TREATMENT_UNITS, 0), (TREATMENT_UNITS, 50)), rel=1e-9
    )
    assert guard["outcome"] == "worse"
    assert guard["absolute_ci"][0] > 0
    assert r["decision"]["recommendation"] == "keep_control"
