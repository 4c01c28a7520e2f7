"""Calibration study for the guardrail circuit breaker: false pauses in A/A, pauses under harm.

Run:  python bench/breaker.py [--runs 2000] [--reads 20] [--seed 5]

Each simulated experiment is read ``--reads`` times (one read per refresh); between reads
each arm gains ``units`` new units. The per-read cumulative sufficient statistics are built
with numpy and handed to ``analysis.engine.breaker_rule.guardrail_harm``, the function a
refresh calls, at alpha = 0.05 with a harm threshold of 0. A run "pauses" at its first
harmful read.

Guardrails (both higher is better, so harm is a drop):

* ``conversion``: 10% of units convert;
* ``revenue``: heavy-tailed revenue per unit: 10% of units buy and spend LogNormal(3, 1.3)
  (the metric of bench/calibration.py).

Scenarios: A/A (no effect) at 100, 1,000 and 5,000 units per arm per read, where the pause
rate must stay at or below alpha; and a planted 20% relative harm (the treatment's rate, or
its spend, times 0.8) at 1,000 and 5,000 units per arm per read, where it must pause in at
least 90% of runs by the last read at realistic traffic (1,000 per arm per read for the
conversion; heavy-tailed revenue needs about 5,000). Figures per
row: the share of runs paused, and the median (and 90th percentile) read of the first pause.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.engine.breaker_rule import guardrail_harm  # noqa: E402
from analysis.engine.stats import ENGINE_VERSION, MeanStats, ProportionStats  # noqa: E402

ALPHA = 0.05
CONVERSION_RATE = 0.10
BUY_RATE, LOG_MU, LOG_SIGMA = 0.10, 3.0, 1.3
HARM = 0.20  # planted relative harm
METRICS = ("conversion", "revenue")


@dataclass(frozen=True)
class Row:
    metric: str
    harm: float
    units_per_read: int
    runs: int
    paused: float  # share of runs paused by the last read
    median_read: float | None  # median first-pause read among paused runs
    p90_read: float | None


def _arm_reads(
    rng: np.random.Generator, metric: str, runs: int, reads: int, units: int, factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative (sum, sum of squares) per run and read for one arm; n is units × read."""
    if metric == "conversion":
        k = rng.binomial(units, CONVERSION_RATE * factor, (runs, reads)).cumsum(axis=1)
        return k.astype(float), k.astype(float)
    buyers = rng.binomial(units, BUY_RATE, (runs, reads))
    values = rng.lognormal(LOG_MU, LOG_SIGMA, int(buyers.sum())) * factor
    cell = np.repeat(np.arange(runs * reads), buyers.ravel())
    total = np.bincount(cell, weights=values, minlength=runs * reads).reshape(runs, reads)
    squares = np.bincount(cell, weights=values * values, minlength=runs * reads)
    return total.cumsum(axis=1), squares.reshape(runs, reads).cumsum(axis=1)


def _stats(metric: str, n: int, total: float, squares: float) -> ProportionStats | MeanStats:
    if metric == "conversion":
        return ProportionStats(n, int(total))
    return MeanStats(n=n, sum=float(total), sum_squares=float(squares))


def first_pause_reads(
    rng: np.random.Generator,
    metric: str,
    *,
    runs: int,
    reads: int,
    units: int,
    harm: float,
    alpha: float = ALPHA,
) -> list[int | None]:
    """For each simulated run, the 1-based read at which the breaker first pauses (or None)."""
    c_sum, c_sq = _arm_reads(rng, metric, runs, reads, units, 1.0)
    t_sum, t_sq = _arm_reads(rng, metric, runs, reads, units, 1.0 - harm)
    out: list[int | None] = []
    for run in range(runs):
        first = None
        for read in range(reads):
            n = units * (read + 1)
            e = guardrail_harm(
                _stats(metric, n, c_sum[run, read], c_sq[run, read]),
                _stats(metric, n, t_sum[run, read], t_sq[run, read]),
                higher_is_better=True,
                alpha=alpha,
            )
            if e.harmful:
                first = read + 1
                break
        out.append(first)
    return out


def study_row(
    rng: np.random.Generator, metric: str, *, runs: int, reads: int, units: int, harm: float
) -> Row:
    firsts = first_pause_reads(rng, metric, runs=runs, reads=reads, units=units, harm=harm)
    paused = [f for f in firsts if f is not None]
    return Row(
        metric=metric,
        harm=harm,
        units_per_read=units,
        runs=runs,
        paused=len(paused) / runs,
        median_read=float(np.median(paused)) if paused else None,
        p90_read=float(np.percentile(paused, 90)) if paused else None,
    )


SCENARIOS = (
    # (harm, units per arm per read)
    (0.0, 100),
    (0.0, 1000),
    (0.0, 5000),
    (HARM, 1000),
    (HARM, 5000),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"engine {ENGINE_VERSION}; alpha {ALPHA}; {args.runs} runs x {args.reads} reads")
    print("| guardrail | planted harm | units/arm/read | paused | median read | p90 read |")
    print("|---|---|---|---|---|---|")
    started = time.perf_counter()
    for metric in METRICS:
        for harm, units in SCENARIOS:
            r = study_row(rng, metric, runs=args.runs, reads=args.reads, units=units, harm=harm)
            median = "-" if r.median_read is None else f"{r.median_read:g}"
            p90 = "-" if r.p90_read is None else f"{r.p90_read:g}"
            print(
                f"| {metric} | {harm:.0%} | {units:,} | {r.paused:.2%} | {median} | {p90} |",
                flush=True,
            )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
