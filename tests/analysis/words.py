"""Results as the API serves them: with the English words of their codes (``analysis.words``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation

from analysis.engine.contract import results_from_stored
from analysis.words import results_in_words


def in_english(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored results (``results_compute``'s dict) with ``decision.reasons`` and each health
    ``message`` in English, as the API serves them."""
    with translation.override("en"):
        return results_in_words(results_from_stored(stored))
