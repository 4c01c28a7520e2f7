"""Targeting rules: GrowthBook's MongoDB-style conditions over the attributes apps send.

Pure Python, no Django. ``eval_condition`` decides whether attributes match a condition, with
the semantics of GrowthBook's SDKs (so a condition means the same in Verdict and in them);
``validate_condition`` explains what is wrong with a condition, and where, before it is saved.

    >>> eval_condition({"country": "SG", "app_version": "3.10.0"},
    ...                {"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.2.0"}})
    True
    >>> validate_condition({"country": {"$in": "CN"}})
    ['country.$in: expected a list, got string']
"""

from experiments.targeting.evaluate import eval_condition
from experiments.targeting.validate import validate_condition

__all__ = ["eval_condition", "validate_condition"]
