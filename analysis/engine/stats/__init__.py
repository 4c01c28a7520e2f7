"""Verdict's statistics engine: pure Python (numpy, scipy, statsmodels), no Django.

Inputs are per-arm sufficient statistics (n, sums, sums of squares, cross sums), so no raw
events reach this package and its cost does not depend on traffic.  Outputs are frozen
dataclasses with JSON-safe ``to_dict()``.  See docs/statistics.md.

    >>> from analysis.engine.stats import MeanStats, compare
    >>> a = MeanStats(n=3407, sum=1396.87, sum_squares=52377.9767)
    >>> b = MeanStats(n=3461, sum=2422.7, sum_squares=134698.29)
    >>> round(compare(a, b, relative=False).p_value, 5)
    0.02016
"""

from analysis.engine.stats.compare import METHODS, compare
from analysis.engine.stats.cuped import pooled_theta
from analysis.engine.stats.inputs import (
    ArmStats,
    MeanStats,
    ProportionStats,
    RatioStats,
    stats_from_dict,
)
from analysis.engine.stats.multiple import adjust_p_values
from analysis.engine.stats.power import (
    expected_duration_days,
    minimum_detectable_effect,
    sample_size,
)
from analysis.engine.stats.results import STATUSES, Comparison, SrmResult
from analysis.engine.stats.srm import srm_check
from analysis.engine.stats.version import ENGINE_VERSION
from analysis.engine.stats.winsorize import winsorization_bounds, winsorize

__all__ = [
    "ENGINE_VERSION",
    "METHODS",
    "STATUSES",
    "ArmStats",
    "Comparison",
    "MeanStats",
    "ProportionStats",
    "RatioStats",
    "SrmResult",
    "adjust_p_values",
    "compare",
    "expected_duration_days",
    "minimum_detectable_effect",
    "pooled_theta",
    "sample_size",
    "srm_check",
    "stats_from_dict",
    "winsorization_bounds",
    "winsorize",
]
