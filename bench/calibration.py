"""Calibration study for analysis.engine.stats: do the error rates and intervals mean what they say?

Run:  python bench/calibration.py [--experiments 2000] [--seed 1]

Simulates A/A and A/B experiments and feeds their per-arm sufficient statistics (what the
SQL aggregation would produce) to ``analysis.engine.stats.compare``.  Unit-level data are simulated
per read in vectorised chunks and reduced straight to sums, so no experiment is looped over
unit by unit.  Two metrics:

* conversion: Bernoulli(10%) per unit (ProportionStats);
* revenue: heavy tailed, 10% of units buy and spend LogNormal(3, 1.3) (MeanStats): unit
  mean 4.68, coefficient of variation 7.3, skewness 41.  Also studied winsorized at the
  99th percentile of unit revenue (106.27), as the aggregation layer can do.

Each experiment has 20 reads of 500 new units per arm (10,000 per arm at the end).
Figures printed:

1. fixed-horizon false-positive rate (A/A, one read at the end): target 5% ± 1.5%;
2. sequential false-positive rate, reading 20 times and stopping at the first significant
   read: target <= 5% (and the naive frequentist rate under the same peeking, for contrast);
3. coverage of 95% intervals for a known effect (+5% conversion, +3% revenue): target
   95% ± 1.5%; plus the time-uniform coverage of the confidence sequences;
4. CUPED: interval width with / without a pre-period covariate of correlation ρ, against
   the predicted sqrt(1 − ρ²).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.engine.stats import Comparison, MeanStats, ProportionStats, compare  # noqa: E402

READS = 20
UNITS_PER_READ = 500  # per arm
CONVERSION_RATE = 0.10
BUY_RATE, LOG_MU, LOG_SIGMA = 0.10, 3.0, 1.3
CONVERSION_LIFT, REVENUE_LIFT = 0.05, 0.03  # relative effects for the coverage study
CUPED_RHO, CUPED_UNITS, CUPED_LIFT = 0.7, 2000, 0.2


@dataclass
class Cumulative:
    """Per experiment, read and arm (shape (experiments, reads, 2)) cumulative sums."""

    n: np.ndarray
    total: np.ndarray
    squares: np.ndarray


def simulate_conversion(
    rng: np.random.Generator, experiments: int, lift: float, units: int = UNITS_PER_READ
) -> Cumulative:
    rates = np.array([CONVERSION_RATE, CONVERSION_RATE * (1 + lift)])
    counts = rng.binomial(units, rates, size=(experiments, READS, 2)).astype(float)
    n = np.full(counts.shape, units, dtype=float).cumsum(axis=1)
    conversions = counts.cumsum(axis=1)
    return Cumulative(n=n, total=conversions, squares=conversions)


def revenue_cap(percentile: float = 99.0) -> float:
    """The population percentile of unit revenue (zero for the 90% of units who do not buy)."""
    buyer_quantile = 1.0 - (1.0 - percentile / 100.0) / BUY_RATE
    return math.exp(LOG_MU + LOG_SIGMA * float(norm.ppf(buyer_quantile)))


def revenue_shape() -> tuple[float, float, float]:
    """(mean, coefficient of variation, skewness) of unit revenue, from lognormal moments."""
    m1, m2, m3 = (BUY_RATE * math.exp(k * LOG_MU + k * k * LOG_SIGMA**2 / 2) for k in (1, 2, 3))
    var = m2 - m1**2
    return m1, math.sqrt(var) / m1, (m3 - 3 * m1 * var - m1**3) / var**1.5


def simulate_revenue(
    rng: np.random.Generator,
    experiments: int,
    lift: float,
    cap: float | None = None,
    units: int = UNITS_PER_READ,
) -> Cumulative:
    """Zero-inflated lognormal revenue per unit, reduced to (Σy, Σy²) per read and arm.

    ``cap`` winsorizes unit values at that amount (the same cap for both arms).
    """
    shape = (experiments, READS, 2)
    cells = int(np.prod(shape))
    buyers = rng.binomial(units, BUY_RATE, size=cells)
    values = rng.lognormal(LOG_MU, LOG_SIGMA, size=int(buyers.sum()))
    cell = np.repeat(np.arange(cells), buyers)
    arm = cell % 2  # last axis is the arm
    values *= np.where(arm == 1, 1.0 + lift, 1.0)
    if cap is not None:
        values = np.minimum(values, cap)
    total = np.bincount(cell, weights=values, minlength=cells).reshape(shape)
    squares = np.bincount(cell, weights=values * values, minlength=cells).reshape(shape)
    n = np.full(shape, units, dtype=float).cumsum(axis=1)
    return Cumulative(n=n, total=total.cumsum(axis=1), squares=squares.cumsum(axis=1))


def arm_stats(kind: str, sims: Cumulative, e: int, r: int, a: int) -> ProportionStats | MeanStats:
    n = int(sims.n[e, r, a])
    if kind == "conversion":
        return ProportionStats(n=n, conversions=int(sims.total[e, r, a]))
    return MeanStats(n=n, sum=float(sims.total[e, r, a]), sum_squares=float(sims.squares[e, r, a]))


def rate(flags: list[bool]) -> float:
    return float(np.mean(flags))


def mc_se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def covers(result: Comparison, truth: float) -> bool:
    """Whether the interval holds ``truth``.  A relative interval with no finite bounds
    (status ``relative_interval_unbounded``) is the whole line, so it does."""
    if result.ci is None:
        return result.status == "relative_interval_unbounded"
    return result.ci[0] <= truth <= result.ci[1]


def _aa_rates(kind: str, sims: Cumulative, relative: bool) -> tuple[float, float, float]:
    """(fixed-horizon, sequential with stopping, naive peeking) rejection rates."""
    experiments = sims.n.shape[0]
    fixed, seq_stop, naive_stop = [], [], []
    for e in range(experiments):
        last = READS - 1
        c, t = arm_stats(kind, sims, e, last, 0), arm_stats(kind, sims, e, last, 1)
        fixed.append(compare(c, t, relative=relative).significant)
        seq_hit = naive_hit = False
        for r in range(READS):
            c, t = arm_stats(kind, sims, e, r, 0), arm_stats(kind, sims, e, r, 1)
            seq_hit = seq_hit or compare(c, t, method="sequential", relative=relative).significant
            naive_hit = naive_hit or compare(c, t, relative=relative).significant
            if seq_hit and naive_hit:
                break
        seq_stop.append(seq_hit)
        naive_stop.append(naive_hit)
    return rate(fixed), rate(seq_stop), rate(naive_stop)


def false_positive_study(
    rng: np.random.Generator, experiments: int, units: int = UNITS_PER_READ
) -> dict[str, float]:
    """A/A experiments.  Relative effects (the default) unless the name says absolute."""
    revenue = simulate_revenue(rng, experiments, 0.0, units=units)
    conversion = simulate_conversion(rng, experiments, 0.0, units)
    capped = simulate_revenue(rng, experiments, 0.0, revenue_cap(), units=units)
    cases = (
        ("conversion", "conversion", conversion, True),
        ("revenue", "revenue", revenue, True),
        ("revenue_absolute", "revenue", revenue, False),
        ("revenue_p99", "revenue", capped, True),
    )
    out: dict[str, float] = {}
    for name, kind, sims, relative in cases:
        fixed, seq, naive = _aa_rates(kind, sims, relative)
        out[f"{name}.fixed_fpr"] = fixed
        out[f"{name}.sequential_fpr_20_reads"] = seq
        out[f"{name}.naive_peeking_fpr_20_reads"] = naive
    return out


def coverage_study(
    rng: np.random.Generator, experiments: int, units: int = UNITS_PER_READ
) -> dict[str, float]:
    out: dict[str, float] = {}
    studies = (
        ("conversion", simulate_conversion, CONVERSION_LIFT),
        ("revenue", simulate_revenue, REVENUE_LIFT),
    )
    for kind, simulate, lift in studies:
        sims = simulate(rng, experiments, lift, units=units)
        fixed, bayes, seq_always = [], [], []
        for e in range(experiments):
            last = READS - 1
            c, t = arm_stats(kind, sims, e, last, 0), arm_stats(kind, sims, e, last, 1)
            fixed.append(covers(compare(c, t), lift))
            lo, hi = compare(c, t, method="bayesian").ci
            bayes.append(lo <= lift <= hi)
            inside = True
            for r in range(READS):
                c, t = arm_stats(kind, sims, e, r, 0), arm_stats(kind, sims, e, r, 1)
                if not covers(compare(c, t, method="sequential"), lift):
                    inside = False
                    break
            seq_always.append(inside)
        out[f"{kind}.fixed_coverage"] = rate(fixed)
        out[f"{kind}.bayesian_flat_coverage"] = rate(bayes)
        out[f"{kind}.sequential_coverage_all_20_reads"] = rate(seq_always)
    return out


def cuped_study(rng: np.random.Generator, experiments: int) -> dict[str, float]:
    """Bivariate normal (pre x, post y) with correlation ρ; treatment adds CUPED_LIFT to y."""
    shape = (experiments, 2, CUPED_UNITS)
    x = rng.normal(size=shape)
    y = CUPED_RHO * x + math.sqrt(1 - CUPED_RHO**2) * rng.normal(size=shape)
    x, y = 10 + 3 * x, 10 + 3 * y
    y[:, 1, :] += CUPED_LIFT
    sums = {
        "sum": y.sum(axis=2),
        "sum_squares": (y * y).sum(axis=2),
        "pre_sum": x.sum(axis=2),
        "pre_sum_squares": (x * x).sum(axis=2),
        "cross_sum": (x * y).sum(axis=2),
    }
    ratios, reductions, covered, covered_plain = [], [], [], []
    for e in range(experiments):
        arms = [
            MeanStats(n=CUPED_UNITS, **{k: float(v[e, a]) for k, v in sums.items()}) for a in (0, 1)
        ]
        plain = [MeanStats(CUPED_UNITS, arm.sum, arm.sum_squares) for arm in arms]
        adjusted = compare(arms[0], arms[1], relative=False)
        unadjusted = compare(plain[0], plain[1], relative=False)
        ratios.append((adjusted.ci[1] - adjusted.ci[0]) / (unadjusted.ci[1] - unadjusted.ci[0]))
        reductions.append(adjusted.variance_reduction)
        covered.append(adjusted.ci[0] <= CUPED_LIFT <= adjusted.ci[1])
        covered_plain.append(unadjusted.ci[0] <= CUPED_LIFT <= unadjusted.ci[1])
    return {
        "cuped.rho": CUPED_RHO,
        "cuped.predicted_width_ratio": math.sqrt(1 - CUPED_RHO**2),
        "cuped.observed_width_ratio": float(np.mean(ratios)),
        "cuped.predicted_variance_reduction": CUPED_RHO**2,
        "cuped.observed_variance_reduction": float(np.mean(reductions)),
        "cuped.coverage": rate(covered),
        "cuped.unadjusted_coverage": rate(covered_plain),
    }


def run(
    experiments: int = 2000, seed: int = 1, units_per_read: int = UNITS_PER_READ
) -> dict[str, float]:
    """All studies; returns the figures keyed by name."""
    rng = np.random.default_rng(seed)
    figures: dict[str, float] = {}
    figures.update(false_positive_study(rng, experiments, units_per_read))
    figures.update(coverage_study(rng, experiments, units_per_read))
    figures.update(cuped_study(rng, experiments))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--units-per-read",
        type=int,
        default=UNITS_PER_READ,
        help="units added per arm at each of the 20 reads",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    figures = run(args.experiments, args.seed, args.units_per_read)
    n = args.experiments
    print(
        f"analysis.engine.stats calibration: {n} simulated experiments per study, seed {args.seed}"
    )
    print(
        f"{READS} reads x {args.units_per_read} units per arm; Monte Carlo s.e. of a 5% rate "
        f"{mc_se(0.05, n):.2%}, of a 95% coverage {mc_se(0.95, n):.2%}"
    )
    mean, cv, skew = revenue_shape()
    print(
        f"revenue per unit: mean {mean:.2f}, CV {cv:.1f}, skewness {skew:.0f}; "
        f"p99 cap {revenue_cap():.2f}"
    )
    for key, value in figures.items():
        shown = (
            f"{value:.4f}"
            if key.startswith("cuped.") and "coverage" not in key
            else (f"{value:.2%}")
        )
        print(f"  {key:<42} {shown}")
    print(f"elapsed {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
