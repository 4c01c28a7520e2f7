"""Snapshots that between them give every decision reason and health message code, and
guardrail breaker rows of every shape: the cases the renderer's tests (tests/analysis/
test_words.py, tests/console/report/test_reasons.py) render in English and 简体中文."""

from __future__ import annotations

import datetime as dt
from typing import Any

from analysis.engine.contract import Results, results_from_stored
from analysis.engine.contract.breaker import BreakerRow
from analysis.engine.results import results_compute
from analysis.engine.stats import ProportionStats
from tests.analysis.reference import AS_OF, conversion, plan, synthetic_inputs

CONTROL = (10_000, 1_000)
BETTER = (10_000, 1_300)
WORSE = (10_000, 800)
FLAT = (10_000, 1_010)


def _results(
    metrics: list[dict[str, Any]], *, p: Any = None, variants=("control", "treatment"), **kw
) -> Results:
    units_by_day = kw.pop("units_by_day", None)
    inputs = synthetic_inputs(metrics, variants=variants, **kw)
    if units_by_day is not None:
        inputs["units_by_day"] = units_by_day
    for m, given in zip(inputs["metrics"], metrics, strict=True):
        m.update(given.get("extra", {}))
    stored = results_compute(inputs=inputs, plan=p or plan(), computed_at="x", engine_version="t")
    return results_from_stored(stored)


def _primary(stats: Any, **fields: Any) -> dict[str, Any]:
    return {"metric": "conv", "role": "primary", "stats": stats, **fields}


def _guard(stats: Any) -> dict[str, Any]:
    return {"metric": "refunds", "role": "guardrail", "higher_is_better": False, "stats": stats}


def _segment(value: str, control: int, treatment: int) -> dict[str, Any]:
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


def scenarios() -> dict[str, Results]:
    """Snapshots between them giving every reason and message code."""
    segments = [_segment("CN", 5_000, 4_000), _segment("SG", 5_000, 4_990)]
    return {
        "ship": _results(
            [_primary(conversion(CONTROL, BETTER)), _guard(conversion(CONTROL, CONTROL))]
        ),
        "ship_bayesian": _results(
            [_primary(conversion(CONTROL, BETTER))], p=plan(method="bayesian")
        ),
        "worse": _results([_primary(conversion(CONTROL, WORSE))]),
        # No conversion at all in the treatment: decided on the absolute difference.
        "worse_absolute": _results([_primary(conversion((1_387, 42), (1_414, 0)))]),
        "blocked": _results(
            [_primary(conversion(CONTROL, BETTER)), _guard(conversion(CONTROL, BETTER))]
        ),
        # Refunds from none to 4 of 40: Fisher's test does not call it, the interval does.
        "blocked_by_interval": _results(
            [_primary(conversion((40, 4), (40, 20))), _guard(conversion((40, 0), (40, 4)))]
        ),
        "planned_sample": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(planned_sample_size=100_000)
        ),
        "reached": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(planned_sample_size=20_000)
        ),
        "stopped": _results(
            [_primary(conversion(CONTROL, FLAT))], status="stopped", p=plan(mde=0.01)
        ),
        "needed": _results([_primary(conversion(CONTROL, FLAT))], p=plan(mde=0.02)),
        "no_plan": _results([_primary(conversion(CONTROL, FLAT))]),
        "duration": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(planned_duration_days=30)
        ),
        "three_arms": _results(
            [_primary(conversion(CONTROL, FLAT, (10_000, 990)))], variants=("control", "b", "c")
        ),
        "srm_error": _results(
            [_primary(conversion(CONTROL, BETTER))],
            units={"control": 10_000, "treatment": 8_990},
            segments=segments,
        ),
        "srm_warning": _results(
            [_primary(conversion(CONTROL, BETTER))], units={"control": 10_000, "treatment": 9_620}
        ),
        # The overall split is exact; the segments' splits are not (tests/analysis/
        # test_srm_alarms.py).
        "segment_srm_error": _results(
            [_primary(conversion((50_000, 5_000), (50_000, 6_500)))],
            units={"control": 50_000, "treatment": 50_000},
            segments=[
                _segment("CN", 3_550, 2_050),
                _segment("US", 24_818, 26_318),
                _segment("SG", 15_000, 15_000),
                _segment("JP", 6_632, 6_632),
            ],
        ),
        "segment_srm_warning": _results(
            [_primary(conversion((50_000, 5_000), (50_000, 6_500)))],
            units={"control": 50_000, "treatment": 50_000},
            segments=[
                _segment("CN", 5_224, 4_776),
                _segment("US", 19_776, 20_224),
                _segment("SG", 15_000, 15_000),
                _segment("JP", 10_000, 10_000),
            ],
        ),
        "day_srm": _results(
            [_primary(conversion(CONTROL, FLAT))],
            units_by_day={
                "2026-11-01": {"control": 5_000, "treatment": 5_000},
                "2026-11-02": {"control": 5_000, "treatment": 4_000},
            },
        ),
        "too_few": _results([_primary(conversion((1, 0), (1, 1)))]),
        "no_primary": _results([{**_primary(conversion(CONTROL, FLAT)), "role": "secondary"}]),
        "no_new_exposures": _results(
            [_primary(conversion(CONTROL, FLAT))], last_exposure_at=AS_OF - dt.timedelta(hours=30)
        ),
        "no_exposures": _results(
            [_primary(conversion(CONTROL, FLAT))],
            last_exposure_at=None,
            started_at=AS_OF - dt.timedelta(hours=50),
        ),
        "underpowered": _results(
            [_primary(conversion(CONTROL, FLAT))], p=plan(mde=0.01, planned_sample_size=20_000)
        ),
        "underpowered_sample": _results(
            [_primary(conversion(CONTROL, FLAT))], status="stopped", p=plan(mde=0.01)
        ),
        "multiple": _results(
            [_primary(conversion(CONTROL, FLAT))],
            excluded={"forced": 3, "multiple_variants": 200, "total": 202},
        ),
        "out_of_range": _results(
            [
                _primary(conversion(CONTROL, FLAT)),
                {
                    "metric": "revenue",
                    "role": "secondary",
                    "stats": conversion(CONTROL, FLAT),
                    "extra": {"status": "values_out_of_range", "out_of_range_units": 1_020},
                },
            ]
        ),
    }


def _row(**fields: Any) -> BreakerRow:
    base: dict[str, Any] = {
        "metric": "errors",
        "name": "Checkout errors",
        "variant": "treatment",
        "higher_is_better": False,
        "threshold": 0.0,
        "basis": "relative",
        "effect": 0.4123,
        "ci": (0.1234, 0.7891),
        "status": "ok",
        "harmful": True,
    }
    return BreakerRow(**(base | fields))


# (rows, alpha): the first row is the one the pause names; the rest are counted.
BREAKER_CASES: dict[str, tuple[list[BreakerRow], float]] = {
    "relative": ([_row()], 0.05),
    "relative_threshold": ([_row(threshold=0.05), _row(variant="b")], 0.01),
    "higher_is_better": ([_row(higher_is_better=True, effect=-0.25, ci=(-0.4, -0.1))], 0.05),
    "absolute": (
        [_row(basis="absolute", effect=0.0303, ci=(0.02126, 0.03931), threshold=0.025)],
        0.1,
    ),
}
BREAKER_SNAPSHOT = {"id": 4242, "as_of": "2026-02-01T00:00:00+00:00"}
