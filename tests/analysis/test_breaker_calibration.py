"""Calibration of the guardrail circuit breaker (Monte Carlo, bench/breaker.py): read at 20
refreshes, A/A experiments pause in at most alpha of runs, and a planted 20% relative harm at
realistic traffic pauses in at least 90% of runs."""

from __future__ import annotations

import numpy as np
import pytest

from bench.breaker import ALPHA, HARM, study_row

RUNS, READS = 1000, 20


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "units"), [("conversion", 1000), ("revenue", 1000)])
def test_breaker__aa_read_at_20_refreshes__pauses_at_most_alpha_of_runs(metric, units) -> None:
    row = study_row(
        np.random.default_rng(71), metric, runs=RUNS, reads=READS, units=units, harm=0.0
    )
    assert row.paused <= ALPHA


@pytest.mark.slow
@pytest.mark.parametrize(("metric", "units"), [("conversion", 1000), ("revenue", 5000)])
def test_breaker__planted_20pct_harm_at_realistic_traffic__pauses_in_90pct_of_runs(
    metric, units
) -> None:
    row = study_row(
        np.random.default_rng(72), metric, runs=RUNS, reads=READS, units=units, harm=HARM
    )
    assert row.paused >= 0.90
    assert row.median_read is not None and row.median_read <= 10
