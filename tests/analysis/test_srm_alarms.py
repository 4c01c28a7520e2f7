"""Sample ratio mismatch per segment and per exposure day (issue 25, the statistics audit).

Every p-value is computed here with ``scipy.stats.chisquare`` and Holm's step-down is written
out by hand; neither comes from the engine.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as sps

from analysis.engine.contract import SegmentResult, SnapshotInputs, SrmResult
from analysis.engine.results import results_compute
from analysis.engine.srm_alarms import day_srm_alarms, segment_srm_alarms
from analysis.engine.stats import ProportionStats
from tests.analysis.reference import conversion, plan, synthetic_inputs

SHIP_WORTHY = conversion((50_000, 5_000), (50_000, 6_500))
# The audit's example: the overall split is exactly 50,000 / 50,000, while Safari lost
# treatment units (p ≈ 5e-89) and Chrome gained them (p ≈ 3e-11).
BROWSERS = {
    "safari": (3_550, 2_050),
    "chrome": (24_818, 26_318),
    "firefox": (15_000, 15_000),
    "other": (6_632, 6_632),
}


def _segment(attribute: str, value: str, control: int, treatment: int) -> dict:
    return {
        "attribute": attribute,
        "value": value,
        "metric": "conv",
        "units": {"control": control, "treatment": treatment},
        "stats": {
            "control": ProportionStats(n=control, conversions=0).to_dict(),
            "treatment": ProportionStats(n=treatment, conversions=0).to_dict(),
        },
    }


def _results(
    segments: dict[str, tuple[int, int]], *, units_by_day=None, weights=None, units=None
) -> dict:
    inputs = synthetic_inputs(
        [{"metric": "conv", "stats": SHIP_WORTHY}],
        segments=[_segment("browser", v, c, t) for v, (c, t) in segments.items()],
        weights=weights,
        units=units,
    )
    if units_by_day is not None:
        inputs["units_by_day"] = units_by_day
    return results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")


def _chisquare_p(observed, weights=(1.0, 1.0)) -> float:
    observed = np.asarray(observed, dtype=float)
    w = np.asarray(weights, dtype=float)
    return float(sps.chisquare(observed, f_exp=observed.sum() * w / w.sum()).pvalue)


def _holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, written out."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def test_segment_srm__exact_overall_split_broken_browsers__error_and_decision_held():
    r = _results(BROWSERS)
    assert r["srm"]["level"] == "ok"  # 50,000 / 50,000
    raw = {v: _chisquare_p(ct) for v, ct in BROWSERS.items()}
    assert raw["safari"] < 1e-85 and 1e-11 < raw["chrome"] < 1e-10
    holm = dict(zip(raw, _holm(list(raw.values())), strict=True))

    (check,) = [h for h in r["health"] if h["check"] == "segment_srm"]
    assert check["severity"] == "error"
    assert check["code"] == "segment_srm_error"
    assert check["condition"] == "segment_srm:browser"
    params = check["params"]
    assert params["attribute"] == "browser"
    assert (params["count"], params["family_size"]) == (2, 4)
    named = {item["value"]: item for item in params["items"]}
    assert list(named) == ["safari", "chrome"]  # most significant first
    for value, item in named.items():
        assert item["p"] == pytest.approx(raw[value], rel=1e-9)
        assert item["p_adjusted"] == pytest.approx(holm[value], rel=1e-9)
        assert item["observed"] == dict(zip(("control", "treatment"), BROWSERS[value], strict=True))

    decision = r["decision"]
    assert decision["recommendation"] == "keep_running"
    (reason,) = decision["reason_codes"]
    assert reason["code"] == "segment_srm_error"
    assert reason["params"]["attribute"] == "browser"
    assert reason["params"]["value"] == "safari"
    assert reason["params"]["p"] == pytest.approx(holm["safari"], rel=1e-9)


def test_segment_srm__balanced_segments__no_check_and_ship():
    r = _results({"safari": (5_000, 5_000), "chrome": (45_000, 45_000)})
    assert r["health"] == []
    assert r["decision"]["recommendation"] == "ship"


def test_segment_srm__survives_correction_but_not_extreme__warning_decision_stands():
    # One segment at p ≈ 8e-6 (Holm x4 ≈ 3e-5: below 0.001, above 1e-6); its mirror image in
    # a four times larger segment stays well above 0.001.
    segments = {
        "CN": (5_224, 4_776),
        "US": (19_776, 20_224),
        "SG": (15_000, 15_000),
        "other": (10_000, 10_000),
    }
    raw = {v: _chisquare_p(ct) for v, ct in segments.items()}
    holm = dict(zip(raw, _holm(list(raw.values())), strict=True))
    assert 1e-6 < holm["CN"] < 1e-3 and holm["US"] > 1e-3
    r = _results(segments)
    (check,) = [h for h in r["health"] if h["check"] == "segment_srm"]
    assert (check["severity"], check["code"]) == ("warning", "segment_srm_warning")
    assert check["condition"] == "segment_srm_warning:browser"
    (item,) = check["params"]["items"]
    assert item["value"] == "CN"
    assert item["p_adjusted"] == pytest.approx(holm["CN"], rel=1e-9)
    assert r["decision"]["recommendation"] == "ship"


def test_segment_srm__raw_p_below_threshold_but_not_after_correction__no_check():
    # p ≈ 0.0006 alone; Holm across 4 segments gives ≈ 0.0024: not flagged.
    segments = {
        "CN": (5_173, 4_827),
        "US": (19_827, 20_173),
        "SG": (15_000, 15_000),
        "other": (10_000, 10_000),
    }
    raw = {v: _chisquare_p(ct) for v, ct in segments.items()}
    assert raw["CN"] < 1e-3 < _holm(list(raw.values()))[0]
    r = _results(segments)
    assert [h for h in r["health"] if h["check"] == "segment_srm"] == []


def _days(broken: tuple[int, int] | None = None) -> dict[str, dict[str, int]]:
    days = {f"2026-11-{d:02d}": {"control": 7_000, "treatment": 7_000} for d in range(1, 8)}
    if broken is not None:
        days["2026-11-04"] = {"control": broken[0], "treatment": broken[1]}
    return days


def test_day_srm__one_day_with_a_broken_split__warning_naming_the_day():
    days = _days((7_000, 6_000))
    raw = [_chisquare_p([d["control"], d["treatment"]]) for d in days.values()]
    holm = _holm(raw)
    r = _results({}, units_by_day=days)
    (check,) = [h for h in r["health"] if h["check"] == "day_srm"]
    assert (check["severity"], check["code"], check["condition"]) == (
        "warning",
        "day_srm_warning",
        "day_srm",
    )
    assert (check["params"]["count"], check["params"]["family_size"]) == (1, 7)
    (item,) = check["params"]["items"]
    assert item["value"] == "2026-11-04"
    assert item["p"] == pytest.approx(raw[3], rel=1e-9)
    assert item["p_adjusted"] == pytest.approx(holm[3], rel=1e-9)
    assert r["decision"]["recommendation"] == "ship"  # days warn, they do not hold


def test_day_srm__unequal_weights__expected_from_the_weights():
    # 2:1 weights, exactly 6,000 / 3,000 overall; days 2 and 3 are broken both ways.
    days = {
        "2026-11-01": {"control": 2_000, "treatment": 1_000},
        "2026-11-02": {"control": 2_000, "treatment": 1_300},
        "2026-11-03": {"control": 2_000, "treatment": 700},
    }
    r = _results(
        {}, units_by_day=days, weights=(2.0, 1.0), units={"control": 6_000, "treatment": 3_000}
    )
    assert r["srm"]["level"] == "ok"
    (check,) = [h for h in r["health"] if h["check"] == "day_srm"]
    items = {item["value"]: item for item in check["params"]["items"]}
    assert set(items) == {"2026-11-02", "2026-11-03"}
    day2 = items["2026-11-02"]
    assert day2["p"] == pytest.approx(_chisquare_p([2_000, 1_300], (2.0, 1.0)), rel=1e-9)
    assert day2["expected"] == pytest.approx({"control": 2_200.0, "treatment": 1_100.0})


def test_day_srm__one_day_or_overall_error__left_to_the_overall_check():
    one_day = {"2026-11-01": {"control": 50_000, "treatment": 50_000}}
    assert [h for h in _results({}, units_by_day=one_day)["health"]] == []
    broken = _days((7_000, 6_000))
    r = _results({}, units_by_day=broken, units={"control": 49_000, "treatment": 47_000})
    assert [h["check"] for h in r["health"]] == ["srm"]


def test_day_srm__balanced_days_or_inputs_without_days__no_check():
    assert _results({}, units_by_day=_days())["health"] == []
    assert _results({})["health"] == []


@pytest.mark.slow
def test_segment_and_day_srm__healthy_splits__false_alarm_rate_within_the_threshold():
    # Monte Carlo: 2,000 healthy experiments with a 10-segment dimension and 14 days, each
    # unit assigned by a fair coin. Holm keeps any false alarm per family at most 0.001, so
    # at most 2 families x 0.001 x 2,000 = 4 alarms are expected; 13 would be very unlikely.
    rng = np.random.default_rng(25)
    base = SnapshotInputs.from_dict(synthetic_inputs([{"metric": "conv", "stats": SHIP_WORTHY}]))
    alarms = 0
    for _ in range(2_000):
        sizes = rng.multinomial(20_000, [0.1] * 10)
        treatment = rng.binomial(sizes, 0.5)
        segments = [
            SegmentResult(
                attribute="browser",
                value=f"s{i}",
                metric="conv",
                units=int(n),
                srm=SrmResult(
                    p_value=_chisquare_p([n - t, t]),
                    mismatch=False,
                    statistic=0.0,
                    observed={"control": int(n - t), "treatment": int(t)},
                    expected={"control": n / 2, "treatment": n / 2},
                ),
                variants=(),
            )
            for i, (n, t) in enumerate(zip(sizes, treatment, strict=True))
        ]
        per_day = rng.binomial(2_000, 0.5, size=14)
        days = {
            f"2026-11-{d + 1:02d}": {"control": int(2_000 - t), "treatment": int(t)}
            for d, t in enumerate(per_day)
        }
        alarms += len(segment_srm_alarms(segments))
        alarms += len(day_srm_alarms(replace(base, units_by_day=days)))
    assert alarms <= 12
