"""The pure analysis: statistics, the results contract, decision, health, outcomes, power,
economics and chart geometry.

One entry point, ``analyze(inputs, plan) -> Results``: typed ``SnapshotInputs`` (what the
aggregation returns) and ``Plan`` in, typed ``Results`` out (``analysis.engine.contract``).
No Django, DRF or Celery import reaches this package (import-linter's "Pure cores import no
framework" contract), so a stored snapshot is recomputed from its inputs and plan alone.
"""

from analysis.engine.results import analyze

__all__ = ["analyze"]
