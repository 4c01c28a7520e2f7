"""Reads for the experiment pages: the filtered list, the latest results per row, the breaker's
pause reason.

``experiments`` may not import ``analysis`` (the layer contract), so the latest result snapshot
is read through the app registry (``apps.get_model("analysis", "ResultSnapshot")``) and only
the documented keys of its stored ``results`` JSON are used (see ``snapshot_summary``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.formats import number_format

from experiments import selectors
from experiments.models import AuditLogEntry, Experiment, ExperimentStatus, Layer

ANALYSIS_ACTOR = "analysis"


@dataclass(frozen=True)
class Lift:
    """A treatment's relative effect on the primary metric in the latest snapshot."""

    variant: str
    effect: float | None
    significant: bool
    outcome: str

    @property
    def percent(self) -> float | None:
        """The effect in percent (0.109 -> 10.9)."""
        return None if self.effect is None else self.effect * 100


@dataclass(frozen=True)
class SnapshotSummary:
    """What a list row and the Results tab show of the latest good snapshot."""

    as_of: datetime | None
    computed_at: datetime | None
    exposed_units: int
    primary_metric: str | None
    lifts: list[Lift] = field(default_factory=list)
    health_problems: list[str] = field(default_factory=list)

    @property
    def exposed_units_display(self) -> str:
        """The unit count with the reader's digit grouping (30,512)."""
        return number_format(self.exposed_units, force_grouping=True)


def experiment_list_filtered(
    *,
    search: str = "",
    status: str | None = None,
    kind: str | None = None,
    owner_id: int | None = None,
    layer_key: str | None = None,
) -> QuerySet[Experiment]:
    """Experiments matching the list page's search and filters, newest first."""
    qs = selectors.experiment_list(status=status, kind=kind)
    if search:
        qs = qs.filter(
            Q(key__icontains=search) | Q(name__icontains=search) | Q(hypothesis__icontains=search)
        )
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if layer_key:
        qs = qs.filter(layer__key=layer_key)
    return qs


def experiment_owners() -> QuerySet[Any]:
    """People who own at least one experiment, for the owner filter."""
    return (
        get_user_model().objects.filter(experiments__isnull=False).distinct().order_by("username")
    )


def layer_choices() -> QuerySet[Layer]:
    return Layer.objects.order_by("key")


def snapshot_summary(
    results: dict[str, Any], *, as_of: datetime | None = None, computed_at: datetime | None = None
) -> SnapshotSummary:
    """Read the stored results JSON's documented keys (docs/analysis.md, "The results JSON"):
    ``units.total`` (else the sum of ``units.by_variant``), the ``metrics[]`` entry whose
    ``role`` is ``primary`` with its non-control ``variants[]``' ``effect``, ``significant``
    and ``outcome``, and ``health[]`` entries of severity ``warning`` or ``error``. Missing
    keys read as empty, so results of any schema version give a summary."""
    units = results.get("units") or {}
    total = units.get("total")
    if not isinstance(total, int):
        total = sum(v for v in (units.get("by_variant") or {}).values() if isinstance(v, int))
    primary = next((m for m in results.get("metrics") or [] if m.get("role") == "primary"), None)
    lifts = [
        Lift(
            variant=str(v.get("variant", "")),
            effect=v.get("effect") if isinstance(v.get("effect"), int | float) else None,
            significant=bool(v.get("significant")),
            outcome=str(v.get("outcome") or ""),
        )
        for v in (primary or {}).get("variants") or []
        if not v.get("is_control")
    ]
    problems = [
        str(h.get("message") or h.get("check") or "")
        for h in results.get("health") or []
        if h.get("severity") in ("warning", "error")
    ]
    return SnapshotSummary(
        as_of=as_of,
        computed_at=computed_at,
        exposed_units=total,
        primary_metric=(primary or {}).get("name") or (primary or {}).get("metric"),
        lifts=lifts,
        health_problems=problems,
    )


def latest_snapshot_summaries(*, experiment_ids: list[int]) -> dict[int, SnapshotSummary]:
    """The latest good snapshot's summary of each experiment that has one, in one query."""
    if not experiment_ids:
        return {}
    snapshot_model = apps.get_model("analysis", "ResultSnapshot")
    newest = (
        snapshot_model.objects.filter(experiment=OuterRef("experiment"), status="ok")
        .order_by("-computed_at", "-id")
        .values("id")[:1]
    )
    rows = snapshot_model.objects.filter(
        experiment_id__in=experiment_ids, status="ok", id=Subquery(newest)
    ).values("experiment_id", "as_of", "computed_at", "results")
    return {
        row["experiment_id"]: snapshot_summary(
            row["results"] or {}, as_of=row["as_of"], computed_at=row["computed_at"]
        )
        for row in rows
    }


def breaker_pause(*, experiment: Experiment) -> AuditLogEntry | None:
    """The audit entry of the guardrail breaker's pause, when a paused experiment's latest pause
    was made by analysis (its message says which guardrail, by how much, and which snapshot)."""
    if experiment.status != ExperimentStatus.PAUSED:
        return None
    entry = AuditLogEntry.objects.filter(experiment=experiment, action="pause").first()
    if entry is not None and entry.actor_label == ANALYSIS_ACTOR:
        return entry
    return None
