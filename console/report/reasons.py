"""The report's decision reasons, health messages and numbers come from the one renderer,
``analysis.words`` (which the API, emails and webhooks use too); nothing is worded here."""

from __future__ import annotations

from analysis.words import decision_reasons, health_message
from analysis.words.numbers import count, localize, status_label

__all__ = ["count", "decision_reasons", "health_message", "localize", "status_label"]
