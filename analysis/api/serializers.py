"""Response bodies of the result endpoints.

The results are the contract's own classes (``analysis.engine.contract``): ``ResultsResponse``
is ``Results`` as served, with the decision's reasons and each health message in English
words (``analysis.words``) and the snapshot's id, last failed refresh and client exposure
rejections beside them. The history and refresh answers are defined the same way. Each
body's JSON and its OpenAPI components come from the same fields (``analysis.api.schema``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from analysis.engine.contract import RECOMMENDATIONS, ROLES, Decision, HealthCheck, Results
from analysis.engine.contract.metrics import choice
from analysis.engine.contract.model import (
    CONTRACT,
    Contract,
    Interval,
    IsoTime,
    Number,
    dataclass,
)

from . import schema as _schema  # noqa: F401  (contract classes as response bodies)


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class DecisionInWords(Decision):
    """The decision as served: its reasons as codes and, one for one, in English words."""

    stored_reasons: Annotated[tuple[str, ...], Field(exclude=True)] = ()
    reasons: Annotated[tuple[str, ...], Field(description="In English.")]


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class HealthCheckInWords(HealthCheck):
    """A health check as served: its message as a code and values and in English words."""

    stored_message: Annotated[str, Field(exclude=True)] = ""
    message: Annotated[str, Field(description="In English.")]


@dataclass(frozen=True, config=CONTRACT)
class LastRefresh(Contract):
    status: str
    at: IsoTime
    error: str


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class ResultsResponse(Results):
    """The latest good snapshot's results, its id, the last refresh when it failed, and the
    client exposures rejected so far."""

    decision: DecisionInWords
    health: tuple[HealthCheckInWords, ...] = ()
    snapshot_id: int
    last_refresh: Annotated[
        LastRefresh | None, Field(description="Null unless the newest refresh failed.")
    ]
    client_exposure_rejections: Annotated[
        dict[str, int],
        Field(
            description="Exposures reported by client SDKs (POST /api/v1/exposures) and "
            "rejected in the experiment's current phase, by reason (`variant_mismatch`: the "
            "unit does not hash to that variant; `not_running`: the experiment was not "
            "running). Counted now, not as of the snapshot; empty when none."
        ),
    ]


@dataclass(frozen=True, config=CONTRACT)
class HistoryVariant(Contract):
    variant: str
    units: int
    mean: Number
    effect: Number
    ci: Annotated[Interval, Field(description="Interval for the relative effect.")]
    p_value: Number
    chance_to_win: Number
    significant: Annotated[bool | None, Field(description="Null for the control.")]


@dataclass(frozen=True, config=CONTRACT)
class HistoryMetric(Contract):
    metric: str
    role: Annotated[str, choice(ROLES)]
    variants: tuple[HistoryVariant, ...]


@dataclass(frozen=True, config=CONTRACT)
class HistorySrm(Contract):
    p_value: Number
    mismatch: bool


@dataclass(frozen=True, config=CONTRACT)
class HistorySnapshot(Contract):
    """One snapshot summarised (``analysis.services.export.results_summary``)."""

    snapshot_id: int
    computed_at: IsoTime
    as_of: IsoTime
    phase: int
    units: int
    srm: HistorySrm
    decision: Annotated[str, choice(RECOMMENDATIONS)]
    metrics: tuple[HistoryMetric, ...]


@dataclass(frozen=True, config=CONTRACT)
class ResultsHistory(Contract):
    """Earlier snapshots, newest first, summarised for charts of the effect over time."""

    experiment: str
    snapshots: tuple[HistorySnapshot, ...]


@dataclass(frozen=True, config=CONTRACT)
class RefreshQueued(Contract):
    experiment: str
    status: str
