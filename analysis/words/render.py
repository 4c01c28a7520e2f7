"""The one renderer: a code and its values into words in the active language.

``REGISTRY`` holds every code by kind (decision reasons, health messages, breaker messages);
``tests/analysis/test_words.py`` checks that it names every code the engine can write and
that each has its English and 简体中文 words. The English of a code is the sentence Verdict has
always written for it, so the API, emails, webhooks and audit entries, all rendered in English
(``translation.override("en")``), say what they said before codes were stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.engine.contract import Coded, Decision, HealthCheck, Results

from .breaker import BREAKER
from .formats import NumberFormat
from .health import MESSAGES
from .reasons import REASONS

Renderer = Callable[[Mapping[str, Any]], str]

REASON, HEALTH, BREAKER_KIND = "reason", "health", "breaker"
REGISTRY: dict[str, Mapping[str, Renderer]] = {
    REASON: REASONS,
    HEALTH: MESSAGES,
    BREAKER_KIND: BREAKER,
}


@dataclass(frozen=True)
class Labels:
    """What a page shows for the keys in a code's values: metric and variant names, and each
    metric's number format (``formats``). The API's words are rendered without them and
    keep the keys and plain numbers they have always had."""

    metrics: Mapping[str, str] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, NumberFormat] = field(default_factory=dict)


def labels_of(results: Results, formats: Mapping[str, NumberFormat] | None = None) -> Labels:
    """The names the results carry for their metric and variant keys."""
    variants: dict[str, str] = {}
    for m in results.metrics:
        for v in m.variants:
            variants.setdefault(v.variant, v.name)
    return Labels(
        metrics={m.metric: m.name for m in results.metrics},
        variants=variants,
        formats=formats or {},
    )


def _relabel(params: Mapping[str, Any], labels: Labels) -> dict[str, Any]:
    out = dict(params)
    metric = params.get("metric")
    if isinstance(metric, str):
        out["metric"] = labels.metrics.get(metric, metric)
        evidence = params.get("evidence")
        if isinstance(evidence, Mapping):
            out["evidence"] = {**evidence, "format": labels.formats.get(metric, NumberFormat())}
    variant = params.get("variant")
    if isinstance(variant, str):
        out["variant"] = labels.variants.get(variant, variant)
    variants = params.get("variants")
    if isinstance(variants, list | tuple):
        out["variants"] = [labels.variants.get(v, v) for v in variants]
    loss = params.get("loss")
    if isinstance(loss, Mapping) and isinstance(loss.get("params"), Mapping):
        out["loss"] = {**loss, "params": _relabel(loss["params"], labels)}
    return out


def render(
    kind: str, coded: Coded, *, fallback: str | None = None, labels: Labels | None = None
) -> str:
    """``coded`` (a code of ``kind``) in the active language; with ``labels`` (pages), names
    for keys and numbers in their metric's format. A code or values this version does not
    know give ``fallback`` (the stored words, if any), else the code itself."""
    try:
        params = coded.params if labels is None else _relabel(coded.params, labels)
        return REGISTRY[kind][coded.code](params)
    except (KeyError, TypeError, ValueError, IndexError):
        return coded.code if fallback is None else fallback


def decision_reasons(decision: Decision, labels: Labels | None = None) -> list[str]:
    """The decision's reasons in the active language; a result stored before the codes
    (schema version 3 or older) keeps its stored English words."""
    if not decision.reason_codes:
        return list(decision.stored_reasons)
    return [render(REASON, coded, labels=labels) for coded in decision.reason_codes]


def health_message(check: HealthCheck, labels: Labels | None = None) -> str:
    """A health check's message in the active language; a result stored before the codes
    (schema version 3 or older) keeps its stored English words."""
    if check.coded is None:
        return check.stored_message
    return render(HEALTH, check.coded, labels=labels)


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
