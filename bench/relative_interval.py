"""Calibration study for relative intervals: are both tails at 2.5%, and is coverage 95%?

Run:  python bench/relative_interval.py [--experiments 20000] [--seed 11]

For each metric (conversion at p = 0.1; heavy-tailed revenue: 10% of units buy and spend
LogNormal(3, 1.3), the metric of bench/calibration.py) and each size (500 and 2,000 units
per arm), it simulates A/A experiments and experiments with a planted relative lift, reduces
them to per-arm sufficient statistics and calls ``analysis.engine.stats.compare`` (frequentist,
relative effect, 95%) with each relative interval formula:

* ``delta``: gbstats' formula, Δ/|μ_C| ± t·SE (the engine's formula before 1.1.0);
* ``log``: delta method on log(μ_T/μ_C), back-transformed;
* ``fieller``: Fieller's interval (the default since 1.1.0).

Figures per row: in A/A, the share of experiments significant upward (interval above 0) and
downward (below 0), target 2.5% ± 0.5% each; under the planted lift, the share of intervals
that miss the true effect from above and from below, and the coverage, target 95% ± 1%;
and the share with no finite interval (status ``relative_interval_unbounded``, counted as
covering and as not significant).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.engine.stats import ENGINE_VERSION, MeanStats, ProportionStats, compare  # noqa: E402

CONVERSION_RATE = 0.10
BUY_RATE, LOG_MU, LOG_SIGMA = 0.10, 3.0, 1.3
SIZES = (500, 2000)
LIFT = 0.10  # planted relative lift, for both metrics
FORMULAS = ("delta", "log", "fieller")


def simulate(
    rng: np.random.Generator, metric: str, units: int, experiments: int, lift: float
) -> list[tuple[ProportionStats | MeanStats, ProportionStats | MeanStats]]:
    """(control, treatment) sufficient statistics of ``experiments`` simulated experiments."""
    if metric == "conversion":
        c = rng.binomial(units, CONVERSION_RATE, experiments)
        t = rng.binomial(units, CONVERSION_RATE * (1 + lift), experiments)
        return [
            (ProportionStats(units, int(a)), ProportionStats(units, int(b)))
            for a, b in zip(c, t, strict=True)
        ]
    arms = []
    for arm_lift in (0.0, lift):
        buyers = rng.binomial(units, BUY_RATE, experiments)
        values = rng.lognormal(LOG_MU, LOG_SIGMA, int(buyers.sum())) * (1.0 + arm_lift)
        cell = np.repeat(np.arange(experiments), buyers)
        total = np.bincount(cell, weights=values, minlength=experiments)
        squares = np.bincount(cell, weights=values * values, minlength=experiments)
        arms.append(
            [MeanStats(units, float(s), float(q)) for s, q in zip(total, squares, strict=True)]
        )
    return list(zip(arms[0], arms[1], strict=True))


def tally(pairs: list, formula: str, truth: float) -> dict[str, float]:
    """Shares of intervals entirely above / below ``truth``, coverage, unbounded."""
    above = below = unbounded = 0
    for control, treatment in pairs:
        r = compare(control, treatment, relative_interval=formula)
        if r.ci is None:
            unbounded += 1
            continue
        above += r.ci[0] > truth
        below += r.ci[1] < truth
    n = len(pairs)
    return {
        "above": above / n,
        "below": below / n,
        "coverage": 1.0 - (above + below) / n,
        "unbounded": unbounded / n,
    }


def run(experiments: int = 20000, seed: int = 11) -> list[dict[str, object]]:
    """One row per metric, size and formula."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for metric in ("conversion", "revenue"):
        for units in SIZES:
            aa = simulate(rng, metric, units, experiments, 0.0)
            ab = simulate(rng, metric, units, experiments, LIFT)
            for formula in FORMULAS:
                null, lifted = tally(aa, formula, 0.0), tally(ab, formula, LIFT)
                rows.append(
                    {
                        "metric": metric,
                        "units": units,
                        "formula": formula,
                        "aa_up": null["above"],
                        "aa_down": null["below"],
                        "miss_high": lifted["above"],
                        "miss_low": lifted["below"],
                        "coverage": lifted["coverage"],
                        "unbounded": max(null["unbounded"], lifted["unbounded"]),
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = run(args.experiments, args.seed)
    n = args.experiments
    print(
        f"relative intervals, analysis.engine.stats {ENGINE_VERSION}: {n} experiments per cell, "
        f"seed {args.seed}, planted lift +{LIFT:.0%}"
    )
    print(
        f"Monte Carlo s.e.: {math.sqrt(0.025 * 0.975 / n):.2%} on a 2.5% tail, "
        f"{math.sqrt(0.05 * 0.95 / n):.2%} on a 95% coverage"
    )
    print(
        f"{'metric':<11}{'n/arm':>6} {'formula':<8}{'A/A up':>8}{'A/A down':>9}"
        f"{'miss hi':>9}{'miss lo':>9}{'coverage':>9}{'unbounded':>10}"
    )
    for r in rows:
        print(
            f"{r['metric']:<11}{r['units']:>6} {r['formula']:<8}{r['aa_up']:>8.2%}"
            f"{r['aa_down']:>9.2%}{r['miss_high']:>9.2%}{r['miss_low']:>9.2%}"
            f"{r['coverage']:>9.2%}{r['unbounded']:>10.2%}"
        )
    print(f"elapsed {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
