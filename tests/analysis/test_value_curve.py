"""Pulled forward or added: the reading of a value to date curve from its early (headline)
and latest comparable points."""

from __future__ import annotations

import pytest

from analysis.engine.contract import MetricResult, PointResult, VariantResult
from analysis.engine.value_curve import ADDED, FADED, UNCLEAR, value_curve_readings


def _point(day: int, diff: float | None, ci: tuple[float, float] | None) -> PointResult:
    control = VariantResult(variant="c", name="C", is_control=True, units=100, mean=10.0)
    treatment = VariantResult(
        variant="t",
        name="T",
        is_control=False,
        units=100,
        mean=None if diff is None else 10.0 + diff,
        absolute_effect=diff,
        absolute_ci=ci,
    )
    return PointResult(point=f"D{day}", day_from=0, day_to=day, variants=(control, treatment))


def _curve(*points: PointResult, higher_is_better: bool = True) -> MetricResult:
    d7 = next(p for p in points if p.point == "D7")
    return MetricResult(
        metric="ltv",
        name="LTV",
        type="value_curve",
        role="secondary",
        higher_is_better=higher_is_better,
        variants=d7.variants,
        headline="D7",
        points=points,
    )


@pytest.mark.parametrize(
    ("points", "verdict", "late"),
    [
        # Still ahead at D60: added.
        ((_point(7, 3.0, (1.0, 5.0)), _point(60, 4.0, (0.5, 7.5))), ADDED, "D60"),
        # Ahead at D7, the lead gone by D30 (D60 not yet comparable): pulled forward.
        (
            (_point(7, 3.0, (1.0, 5.0)), _point(30, 0.4, (-2.0, 2.8)), _point(60, None, None)),
            FADED,
            "D30",
        ),
        # No early lead, no late one: unclear.
        ((_point(7, 0.5, (-1.0, 2.0)), _point(30, 0.2, (-3.0, 3.4))), UNCLEAR, "D30"),
        # Only D7 so far: unclear, no late point.
        ((_point(7, 3.0, (1.0, 5.0)),), UNCLEAR, None),
        # Ahead at D7 and a larger, uncertain difference later: not faded.
        ((_point(7, 3.0, (1.0, 5.0)), _point(30, 5.0, (-1.0, 11.0))), UNCLEAR, "D30"),
    ],
)
def test_value_curve_readings__early_and_late_points__verdict(points, verdict, late) -> None:
    (reading,) = value_curve_readings([_curve(*points)])
    assert (reading.verdict, reading.early, reading.late) == (verdict, "D7", late)


def test_value_curve_readings__lower_is_better__ahead_means_below_zero() -> None:
    points = (_point(7, -3.0, (-5.0, -1.0)), _point(30, -4.0, (-7.0, -0.5)))
    (reading,) = value_curve_readings([_curve(*points, higher_is_better=False)])
    assert reading.verdict == ADDED


def test_value_curve_readings__other_metrics__none() -> None:
    plain = MetricResult(metric="m", name="m", type="mean", role="primary", variants=())
    assert value_curve_readings([plain]) == ()
