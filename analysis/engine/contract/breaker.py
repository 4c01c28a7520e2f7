"""Typed results of the guardrail circuit breaker (``Results.breaker``).

Present only when the plan has ``guardrail_auto_pause`` on: one row per guardrail metric and
non-control variant, with the always-valid (sequential) evidence the breaker read and whether
that row is harmful beyond its threshold. ``analysis.engine.breaker_rule`` computes it;
``analysis.services.breaker`` pauses the experiment when a row is harmful.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import Field, computed_field

from .model import CONTRACT, Contract, Interval, Number, dataclass

# Values of ``BreakerRow.basis``: which always-valid interval was compared with the threshold.
BREAKER_RELATIVE, BREAKER_ABSOLUTE = "relative", "absolute"
BREAKER_BASES = (BREAKER_RELATIVE, BREAKER_ABSOLUTE)


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class BreakerRow(Contract):
    """One guardrail and treatment variant as the breaker saw it.

    ``effect`` and ``ci`` are relative (``basis`` "relative") or, when the relative effect
    cannot be computed (e.g. a control mean of 0), absolute (``basis`` "absolute", compared
    with ``threshold`` × |control mean|). ``basis`` is None when neither could be computed
    (``status`` says why) and the row is then never harmful.
    """

    metric: str
    name: str
    variant: str
    higher_is_better: bool = True
    threshold: Annotated[float, Field(description="Relative harm tolerated (0.05 = 5% worse).")] = (
        0.0
    )
    basis: Annotated[
        str | None,
        Field(
            description="Which always-valid interval was read: `relative`, or `absolute` when "
            "the relative effect cannot be computed; null when neither could be."
        ),
    ] = None
    effect: Number = None
    ci: Annotated[
        Interval,
        Field(description="Always-valid (confidence sequence) interval at the plan's alpha."),
    ] = None
    status: Annotated[str, Field(description="The relative comparison's status.")] = ""
    harmful: Annotated[bool, Field(description="Worse than the threshold: pauses the run.")] = False

    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {"name": "metric"}


@dataclass(frozen=True, config=CONTRACT)
class BreakerResult(Contract):
    """The guardrail circuit breaker's reading of every guardrail at the plan's ``alpha``."""

    alpha: float
    guardrails: tuple[BreakerRow, ...] = ()

    KEY_ORDER: ClassVar[tuple[str, ...]] = ("method", "alpha", "tripped", "guardrails")

    @computed_field(description="Always `sequential` (confidence sequences).")  # type: ignore[prop-decorator]
    @property
    def method(self) -> str:
        return "sequential"

    @computed_field(description="Some guardrail row is harmful.")  # type: ignore[prop-decorator]
    @property
    def tripped(self) -> bool:
        return bool(self.harmful)

    @property
    def harmful(self) -> tuple[BreakerRow, ...]:
        """The rows that call for a pause."""
        return tuple(r for r in self.guardrails if r.harmful)
