"""Aggregation in the database: exposures and events -> per-variant sufficient statistics.

Written once as canonical SQL and emitted with sqlglot for PostgreSQL, SQLite and Spark
(``render.py``; Spark runs it through ``analysis.warehouse.engine``). See docs/analysis.md for
the windows and definitions.
"""

from .inputs import experiment_inputs, metric_specs

__all__ = ["experiment_inputs", "metric_specs"]
