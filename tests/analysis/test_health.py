"""Health checks: SRM with the worst segment, no exposures, guardrails, power, multi-exposure."""

from __future__ import annotations

import datetime as dt

from analysis.engine.results import results_compute
from analysis.engine.stats import ProportionStats
from tests.analysis.reference import AS_OF, conversion, plan, synthetic_inputs
from tests.analysis.words import in_english

CONTROL = (10_000, 1_000)


def _checks(metrics=None, *, p=None, **kw):
    metrics = metrics or [{"metric": "conv", "stats": conversion(CONTROL, (10_000, 1_010))}]
    inputs = synthetic_inputs(metrics, **kw)
    r = results_compute(inputs=inputs, plan=p or plan(), computed_at="x", engine_version="t")
    return {h["check"]: h for h in in_english(r)["health"]}


def _segment(value, control, treatment):
    return {
        "attribute": "country",
        "value": value,
        "metric": "conv",
        "units": {"control": control, "treatment": treatment},
        "stats": {
            "control": ProportionStats(n=control, conversions=0).to_dict(),
            "treatment": ProportionStats(n=treatment, conversions=0).to_dict(),
        },
    }


def test_health__balanced_healthy_experiment__no_checks() -> None:
    assert _checks() == {}


def test_health__srm__error_naming_the_most_imbalanced_segment() -> None:
    segments = [_segment("CN", 5_000, 4_000), _segment("SG", 5_000, 4_990)]
    checks = _checks(units={"control": 10_000, "treatment": 8_990}, segments=segments)
    srm = checks["srm"]
    assert srm["severity"] == "error"
    assert "country = CN" in srm["message"]
    assert "control 10,000 / treatment 8,990" in srm["message"]


def test_health__running_without_exposures_for_a_day__warning() -> None:
    checks = _checks(last_exposure_at=AS_OF - dt.timedelta(hours=30))
    assert "No new exposures for 30 hours" in checks["no_exposures"]["message"]
    assert "no_exposures" not in _checks(last_exposure_at=AS_OF - dt.timedelta(hours=23))
    stopped = _checks(last_exposure_at=AS_OF - dt.timedelta(hours=30), status="stopped")
    assert "no_exposures" not in stopped


def test_health__guardrail_significantly_worse__error_per_variant() -> None:
    metrics = [
        {"metric": "conv", "stats": conversion(CONTROL, CONTROL)},
        {
            "metric": "refunds",
            "role": "guardrail",
            "higher_is_better": False,
            "stats": conversion(CONTROL, (10_000, 1_300)),
        },
    ]
    check = _checks(metrics)["guardrail_worse"]
    assert check["condition"] == "guardrail_worse:refunds:treatment"
    assert "refunds is significantly worse for treatment" in check["message"]


def test_health__planned_sample_too_small_for_mde__underpowered() -> None:
    check = _checks(p=plan(mde=0.01, planned_sample_size=20_000))["underpowered"]
    assert "10,000 units per variant" in check["message"]
    assert "1.0%" in check["message"]
    assert "underpowered" not in _checks(p=plan(mde=0.5, planned_sample_size=20_000))


def test_health__units_with_multiple_variants__warning_with_share() -> None:
    check = _checks(excluded={"forced": 3, "multiple_variants": 200, "total": 202})[
        "multiple_exposures"
    ]
    assert check["message"].startswith("200 units (0.99% of exposed units)")  # 200 / 20,202
