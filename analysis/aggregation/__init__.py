"""Aggregation in the database: exposures and events -> per-variant sufficient statistics.

Runs on PostgreSQL and SQLite. See docs/analysis.md for the windows and definitions.
"""

from .inputs import experiment_inputs, metric_specs

__all__ = ["experiment_inputs", "metric_specs"]
