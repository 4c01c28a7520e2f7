"""The latest results a row of the experiments list shows: exposed units, each treatment's lift
on the primary metric with its outcome, and the failing health checks in the reader's language.

Read from the typed results contract (``analysis.selectors.snapshot_results``), like the
report; a snapshot whose results this version cannot read gives no summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.formats import number_format

from analysis import selectors
from analysis.engine.contract import Results, UnknownSchemaVersion
from analysis.words import health_message

PROBLEM_SEVERITIES = ("warning", "error")


@dataclass(frozen=True)
class Lift:
    """A treatment's relative effect on the primary metric in the latest snapshot."""

    variant: str
    effect: float | None
    outcome: str

    @property
    def percent(self) -> float | None:
        """The effect in percent (0.109 -> 10.9)."""
        return None if self.effect is None else self.effect * 100


@dataclass(frozen=True)
class SnapshotSummary:
    """What a list row shows of the latest good snapshot."""

    as_of: datetime | None
    exposed_units: int
    lifts: list[Lift] = field(default_factory=list)
    health_problems: list[str] = field(default_factory=list)

    @property
    def exposed_units_display(self) -> str:
        """The unit count with the reader's digit grouping (30,512)."""
        return number_format(self.exposed_units, force_grouping=True)


def snapshot_summary(results: Results, *, as_of: datetime | None = None) -> SnapshotSummary:
    """The summary of typed results; health messages in the active language."""
    primary = results.primary
    return SnapshotSummary(
        as_of=as_of,
        exposed_units=results.units.total,
        lifts=[
            Lift(variant=v.variant, effect=v.effect, outcome=v.outcome or "")
            for v in (primary.treatments if primary is not None else ())
        ],
        health_problems=[
            health_message(check)
            for check in results.health
            if check.severity in PROBLEM_SEVERITIES
        ],
    )


def latest_snapshot_summaries(*, experiment_ids: list[int]) -> dict[int, SnapshotSummary]:
    """The latest good snapshot's summary of each experiment that has a readable one, in one
    query."""
    summaries = {}
    latest = selectors.snapshot_latest_by_experiment(experiment_ids=experiment_ids)
    for experiment_id, snapshot in latest.items():
        try:
            results = selectors.snapshot_results(snapshot=snapshot)
        except (KeyError, TypeError, ValueError, UnknownSchemaVersion):
            continue
        summaries[experiment_id] = snapshot_summary(results, as_of=snapshot.as_of)
    return summaries
