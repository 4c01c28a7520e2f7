"""Typed results of a snapshot: what ``ResultSnapshot.results`` stores and the API serves.

Every class is a frozen pydantic dataclass whose fields define its JSON
(``analysis.engine.contract.model``): ``to_dict()`` gives the stored JSON (plain numbers,
never NaN, intervals as two-element lists) and ``from_dict()`` reads it back, for the current
schema version (older stored results go through ``results_from_stored``). The API's schema
is generated from the same classes (``analysis.api.schema``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, computed_field, model_validator

from core.vocab import Recommendation, primary_of

from .breaker import BreakerResult
from .inputs import ExcludedIn, Freshness, OrEmpty, Plan
from .messages import Coded
from .metrics import MetricResult, SegmentResult, SrmResult, choice
from .model import CONTRACT, Contract, IsoTime, Number, dataclass, never_null, or_default

RESULTS_SCHEMA_VERSION = 6

# Values of ``Decision.recommendation`` (core.vocab.Recommendation).
SHIP, KEEP_CONTROL, KEEP_RUNNING, INCONCLUSIVE = (
    Recommendation.SHIP,
    Recommendation.KEEP_CONTROL,
    Recommendation.KEEP_RUNNING,
    Recommendation.INCONCLUSIVE,
)
RECOMMENDATIONS = tuple(Recommendation)


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class PowerResult(Contract):
    """The primary metric's power against the plan's minimum detectable effect."""

    metric: str | None = None
    planned_mde: Number = None
    power: float
    units_per_arm: int
    required_units_per_arm: int | None = None
    current_mde: Number = None
    planned_sample_reached: bool | None = None


@dataclass(frozen=True, config=CONTRACT)
class HealthCheck(Contract):
    """A problem found in the snapshot. ``condition`` is stable across snapshots (the same
    problem gives the same key), so the owner is notified once. ``coded`` is the message as a
    code and its values (``analysis.engine.codes.HealthCode``), put into words by
    ``analysis.words``; results stored before schema version 4 have no code and keep their
    English words in ``stored_message``.

    In the JSON the coded message is two keys, ``code`` and ``params``."""

    check: str
    severity: str
    condition: Annotated[str, Field(description="The same problem has the same key every time.")]
    coded: Annotated[Coded | None, Field(exclude=True)] = None
    stored_message: Annotated[
        str,
        or_default(""),
        Field(description="Results stored before schema version 4: the message in English."),
    ] = ""

    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {"condition": "check"}
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("stored_message",)
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("check", "severity", "condition", "code", "params")

    def omitted(self) -> Iterable[str]:
        return () if self.stored_message else self.OPTIONAL_KEYS

    @computed_field(  # type: ignore[prop-decorator]
        description="The message as a stable code (with `params`), for showing it in another "
        "language; null in results stored before schema version 4."
    )
    @property
    def code(self) -> str | None:
        return self.coded.code if self.coded else None

    @computed_field(  # type: ignore[prop-decorator]
        description="The values the coded message says (numbers unformatted)."
    )
    @property
    def params(self) -> dict[str, Any]:
        return dict(self.coded.params) if self.coded else {}

    @model_validator(mode="before")
    @classmethod
    def _coded_from_code(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "coded" not in data:
            code = data.get("code")
            coded = {"code": code, "params": data.get("params") or {}} if code else None
            return {**data, "coded": coded}
        return data


@dataclass(frozen=True, config=CONTRACT)
class Decision(Contract):
    """The recommendation (``ship`` names ``variant``), with its reasons as codes and values
    (``analysis.engine.codes.ReasonCode``), put into words by ``analysis.words``; results
    stored before schema version 4 have no codes and keep their English words in
    ``stored_reasons``."""

    recommendation: Annotated[str, choice(RECOMMENDATIONS)]
    variant: str | None
    reason_codes: Annotated[
        tuple[Coded, ...],
        or_default(()),
        Field(
            description="The reasons as codes and values (empty in results stored before "
            "schema version 4)."
        ),
    ] = ()
    stored_reasons: Annotated[
        tuple[str, ...],
        or_default(()),
        Field(description="Results stored before schema version 4: the reasons in English."),
    ] = ()

    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("stored_reasons",)

    def omitted(self) -> Iterable[str]:
        return () if self.stored_reasons else self.OPTIONAL_KEYS


@dataclass(frozen=True, config=CONTRACT)
class UnitsResult(Contract):
    total: int
    by_variant: dict[str, int]
    excluded: ExcludedIn


@dataclass(frozen=True, config=CONTRACT, kw_only=True)
class Results(Contract):
    """The analysis of one experiment phase as of ``as_of`` (see docs/analysis.md)."""

    schema_version: int
    experiment: str
    phase: int
    status: Annotated[str, Field(description="The experiment's status at the refresh.")]
    computed_at: IsoTime
    as_of: Annotated[IsoTime, Field(description="Data up to this time.")]
    engine_version: str = ""
    plan: Plan
    units: UnitsResult
    events: int = 0
    freshness: Annotated[Freshness, OrEmpty] = Freshness()
    srm: SrmResult
    power: PowerResult
    metrics: tuple[MetricResult, ...]
    segments: Annotated[tuple[SegmentResult, ...], or_default(())] = ()
    decision: Decision
    health: Annotated[tuple[HealthCheck, ...], or_default(())] = ()
    # The guardrail circuit breaker's reading; None (and absent from the JSON) when the plan
    # has ``guardrail_auto_pause`` off.
    breaker: Annotated[
        BreakerResult | None,
        BeforeValidator(lambda value: value or None),
        Field(
            description="Present only when the plan has guardrail_auto_pause on.",
            json_schema_extra=never_null,
        ),
    ] = None

    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("breaker",)

    def omitted(self) -> Iterable[str]:
        return self.OPTIONAL_KEYS if self.breaker is None else ()

    @property
    def primary(self) -> MetricResult | None:
        return primary_of(self.metrics)

    @model_validator(mode="before")
    @classmethod
    def _current_version(cls, data: Any) -> Any:
        """Stored JSON reads only in the current schema version (``results_from_stored``
        upgrades older ones first)."""
        if isinstance(data, Mapping) and data.get("schema_version") != RESULTS_SCHEMA_VERSION:
            raise ValueError(
                f"Results.from_dict reads schema version {RESULTS_SCHEMA_VERSION}, got "
                f"{data.get('schema_version')!r}; use results_from_stored for stored results"
            )
        return data
