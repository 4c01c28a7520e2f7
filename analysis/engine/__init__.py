"""The pure analysis: statistics, the results contract, decision, health, outcomes, power,
economics and chart geometry.

No Django, DRF or Celery import reaches this package (import-linter's "Pure cores import no
framework" contract), so a stored snapshot is recomputed from its inputs and plan alone.
"""
