"""The one renderer: a code and its values into words in the active language.

``REGISTRY`` holds every code by kind (decision reasons, health messages, breaker messages);
``tests/analysis/test_words.py`` checks that it names every code the engine can write and
that each has its English and 简体中文 words. The English of a code is the sentence Verdict has
always written for it, so the API, emails, webhooks and audit entries, all rendered in English
(``translation.override("en")``), say what they said before codes were stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from analysis.engine.contract import Coded, Decision, HealthCheck, Results

from .breaker import BREAKER
from .health import MESSAGES
from .reasons import REASONS

Renderer = Callable[[Mapping[str, Any]], str]

REASON, HEALTH, BREAKER_KIND = "reason", "health", "breaker"
REGISTRY: dict[str, Mapping[str, Renderer]] = {
    REASON: REASONS,
    HEALTH: MESSAGES,
    BREAKER_KIND: BREAKER,
}


def render(kind: str, coded: Coded, *, fallback: str | None = None) -> str:
    """``coded`` (a code of ``kind``) in the active language. A code or values this version
    does not know give ``fallback`` (the stored words, if any), else the code itself."""
    try:
        return REGISTRY[kind][coded.code](coded.params)
    except (KeyError, TypeError, ValueError, IndexError):
        return coded.code if fallback is None else fallback


def decision_reasons(decision: Decision) -> list[str]:
    """The decision's reasons in the active language; a result stored before the codes
    (schema version 3 or older) keeps its stored English words."""
    if not decision.reason_codes:
        return list(decision.stored_reasons)
    return [render(REASON, coded) for coded in decision.reason_codes]


def health_message(check: HealthCheck) -> str:
    """A health check's message in the active language; a result stored before the codes
    (schema version 3 or older) keeps its stored English words."""
    if check.coded is None:
        return check.stored_message
    return render(HEALTH, check.coded)


def breaker_message(coded: Coded) -> str:
    """A breaker message (``BreakerCode``) in the active language."""
    return render(BREAKER_KIND, coded)


def results_in_words(results: Results) -> dict[str, Any]:
    """The results as served (``Results.to_dict()``) with the words of the active language
    beside the codes: ``decision.reasons`` and each health check's ``message``."""
    data = results.to_dict()
    decision = data["decision"]
    decision.pop("stored_reasons", None)
    decision["reasons"] = decision_reasons(results.decision)
    for item, check in zip(data["health"], results.health, strict=True):
        item.pop("stored_message", None)
        item["message"] = health_message(check)
    return data
