"""The error every data-source rule raises."""

from __future__ import annotations

Errors = dict[str, list[str]]


class RuleViolation(ValueError):
    """A data source breaks one of these rules; the message says which (never a secret)."""
