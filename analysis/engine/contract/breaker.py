"""Typed results of the guardrail circuit breaker (``Results.breaker``).

Present only when the plan has ``guardrail_auto_pause`` on: one row per guardrail metric and
non-control variant, with the always-valid (sequential) evidence the breaker read and whether
that row is harmful beyond its threshold. ``analysis.engine.breaker_rule`` computes it;
``analysis.services.breaker`` pauses the experiment when a row is harmful.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .convert import num, pair

# Values of ``BreakerRow.basis``: which always-valid interval was compared with the threshold.
BREAKER_RELATIVE, BREAKER_ABSOLUTE = "relative", "absolute"
BREAKER_BASES = (BREAKER_RELATIVE, BREAKER_ABSOLUTE)


@dataclass(frozen=True)
class BreakerRow:
    """One guardrail and treatment variant as the breaker saw it.

    ``effect`` and ``ci`` are relative (``basis`` "relative") or, when the relative effect
    cannot be computed (e.g. a control mean of 0), absolute (``basis`` "absolute", compared
    with ``threshold`` × |control mean|). ``basis`` is None when neither could be computed
    (``status`` says why) and the row is then never harmful.
    """

    metric: str
    name: str
    variant: str
    higher_is_better: bool
    threshold: float
    basis: str | None
    effect: float | None
    ci: tuple[float, float] | None
    status: str
    harmful: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "name": self.name,
            "variant": self.variant,
            "higher_is_better": self.higher_is_better,
            "threshold": self.threshold,
            "basis": self.basis,
            "effect": self.effect,
            "ci": list(self.ci) if self.ci is not None else None,
            "status": self.status,
            "harmful": self.harmful,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BreakerRow:
        return cls(
            metric=str(data["metric"]),
            name=str(data.get("name", data["metric"])),
            variant=str(data["variant"]),
            higher_is_better=bool(data.get("higher_is_better", True)),
            threshold=float(data.get("threshold", 0.0)),
            basis=data.get("basis"),
            effect=num(data.get("effect")),
            ci=pair(data.get("ci")),
            status=str(data.get("status", "")),
            harmful=bool(data.get("harmful", False)),
        )


@dataclass(frozen=True)
class BreakerResult:
    """The breaker's reading of every guardrail at the plan's ``alpha``."""

    alpha: float
    guardrails: tuple[BreakerRow, ...]

    @property
    def harmful(self) -> tuple[BreakerRow, ...]:
        """The rows that call for a pause."""
        return tuple(r for r in self.guardrails if r.harmful)

    @property
    def tripped(self) -> bool:
        return bool(self.harmful)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "sequential",
            "alpha": self.alpha,
            "tripped": self.tripped,
            "guardrails": [r.to_dict() for r in self.guardrails],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BreakerResult:
        return cls(
            alpha=float(data["alpha"]),
            guardrails=tuple(BreakerRow.from_dict(r) for r in data.get("guardrails", [])),
        )
