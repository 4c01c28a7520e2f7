"""Sample ratio mismatch with two levels: a warning at p < 0.01 (the decision stands, its
reasons say to look) and an error at p < 0.001 (the decision is held). p-values are
computed with scipy's chi-square goodness-of-fit test inside each test."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from scipy import stats as sps

from analysis.engine.contract import results_from_stored
from analysis.engine.results import results_compute
from analysis.engine.stats.srm import srm_level
from tests.analysis.reference import conversion, plan, synthetic_inputs
from tests.analysis.words import in_english

LEGACY = json.loads((Path(__file__).parent / "data" / "snapshot_v1.json").read_text())

# Units per arm and the level their split gives at equal weights.
OK_SPLIT = (10_000, 10_100)  # p ≈ 0.48
WARNING_SPLIT = (10_000, 10_400)  # p ≈ 0.005
ERROR_SPLIT = (10_000, 10_600)  # p ≈ 3e-5


def _compute(control_units: int, treatment_units: int) -> dict:
    # A clearly better treatment: 10% -> 13%, so only SRM can hold the decision.
    stats = conversion(
        (control_units, control_units // 10), (treatment_units, treatment_units * 13 // 100)
    )
    inputs = synthetic_inputs([{"metric": "paid", "stats": stats}])
    return results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")


@pytest.mark.parametrize(
    ("p_value", "level"),
    [(0.5, "ok"), (0.01, "ok"), (0.0099, "warning"), (0.001, "warning"), (0.00099, "error")],
)
def test_srm_level__p_value__warning_below_001_error_below_0001(p_value, level) -> None:
    assert srm_level(p_value) == level


def test_results__split_well_within_chance__level_ok_and_ship() -> None:
    r = _compute(*OK_SPLIT)
    assert sps.chisquare(OK_SPLIT).pvalue > 0.01
    assert (r["srm"]["level"], r["srm"]["mismatch"]) == ("ok", False)
    assert [h for h in r["health"] if h["check"] == "srm"] == []
    assert r["decision"]["recommendation"] == "ship"
    assert not any("Sample ratio" in reason for reason in in_english(r)["decision"]["reasons"])


def test_results__split_p_between_0001_and_001__warning_and_decision_stands() -> None:
    p = sps.chisquare(WARNING_SPLIT).pvalue
    assert 0.001 < p < 0.01
    r = _compute(*WARNING_SPLIT)
    assert r["srm"]["p_value"] == pytest.approx(p, rel=1e-9)
    assert (r["srm"]["level"], r["srm"]["mismatch"]) == ("warning", False)
    (check,) = [h for h in r["health"] if h["check"] == "srm"]
    assert (check["severity"], check["condition"]) == ("warning", "srm_warning")
    assert r["decision"]["recommendation"] == "ship"
    assert "Sample ratio warning" in in_english(r)["decision"]["reasons"][-1]


def test_results__split_p_below_0001__error_and_decision_held() -> None:
    p = sps.chisquare(ERROR_SPLIT).pvalue
    assert p < 0.001
    r = _compute(*ERROR_SPLIT)
    assert (r["srm"]["level"], r["srm"]["mismatch"]) == ("error", True)
    (check,) = [h for h in r["health"] if h["check"] == "srm"]
    assert (check["severity"], check["condition"]) == ("error", "srm")
    assert r["decision"]["recommendation"] == "keep_running"
    assert r["decision"]["variant"] is None
    assert in_english(r)["decision"]["reasons"][0].startswith("Sample ratio mismatch")


def test_results__unequal_weights_matching_split__level_ok() -> None:
    stats = conversion((10_000, 1_000), (30_000, 3_900))
    inputs = synthetic_inputs([{"metric": "paid", "stats": stats}], weights=(1.0, 3.0))
    r = results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")
    assert r["srm"]["p_value"] == pytest.approx(1.0)
    assert r["srm"]["level"] == "ok"


def test_results_from_stored__results_without_level__level_from_stored_p_value() -> None:
    for p, mismatch, level in (
        (0.5, False, "ok"),
        (0.005, False, "warning"),
        (1e-5, True, "error"),
    ):
        stored = copy.deepcopy(LEGACY["results"])
        stored["srm"].update(p_value=p, mismatch=mismatch)
        assert results_from_stored(stored).srm.level == level
