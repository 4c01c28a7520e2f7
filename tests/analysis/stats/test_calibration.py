"""The calibration study of bench/calibration.py as a test (about 30 s).

Marked slow: it runs with ``-m slow`` or VERDICT_FULL_SUITE=1 (see tests/conftest.py).
"""

import importlib.util
import pathlib

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[3] / "bench" / "calibration.py"


@pytest.fixture(scope="module")
def calibration(request):
    spec = importlib.util.spec_from_file_location("verdict_calibration", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures(calibration):
    return calibration.run(experiments=2000, seed=1)


@pytest.fixture(scope="module")
def figures_at_revenue_scale(calibration):
    """A/A experiments read 20 times with 2,500 new units per arm each (50,000 at the end)."""
    import numpy as np

    rng = np.random.default_rng(1)
    return calibration.false_positive_study(rng, 2000, units=2500)


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["conversion", "revenue", "revenue_absolute", "revenue_p99"])
def test_calibration_fixed_horizon__aa_experiments__rejects_5_percent(figures, metric):
    assert abs(figures[f"{metric}.fixed_fpr"] - 0.05) <= 0.015


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["conversion", "revenue", "revenue_absolute", "revenue_p99"])
def test_calibration_sequential__aa_read_20_times__rejects_at_most_5_percent(figures, metric):
    assert figures[f"{metric}.sequential_fpr_20_reads"] <= 0.05
    assert figures[f"{metric}.naive_peeking_fpr_20_reads"] > 0.15  # what peeking costs


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["conversion", "revenue"])
def test_calibration_coverage__known_effect__95_percent_intervals_cover_95_percent(figures, metric):
    assert abs(figures[f"{metric}.fixed_coverage"] - 0.95) <= 0.015
    assert abs(figures[f"{metric}.bayesian_flat_coverage"] - 0.95) <= 0.015


@pytest.mark.slow
def test_calibration_cuped__correlated_pre_period__interval_shrinks_as_predicted(figures):
    assert figures["cuped.observed_width_ratio"] == pytest.approx(
        figures["cuped.predicted_width_ratio"], abs=0.01
    )
    assert abs(figures["cuped.coverage"] - 0.95) <= 0.015


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["conversion", "revenue", "revenue_absolute", "revenue_p99"])
def test_calibration_sequential__revenue_scale_reads__rejects_at_most_5_percent(
    figures_at_revenue_scale, metric
):
    # The same A/A study at the sizes a revenue experiment needs (docs/statistics.md).
    assert figures_at_revenue_scale[f"{metric}.sequential_fpr_20_reads"] <= 0.05
    assert abs(figures_at_revenue_scale[f"{metric}.fixed_fpr"] - 0.05) <= 0.015
