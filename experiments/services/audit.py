from __future__ import annotations

from typing import Any

from core.actors import Actor
from experiments.models import AuditLogEntry, Experiment


def experiment_state(experiment: Experiment) -> dict[str, Any]:
    """A JSON snapshot of an experiment's definition, for audit entries and phase records."""
    return {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "expected_effect": experiment.expected_effect,
        "kind": experiment.kind,
        "owner": experiment.owner.get_username() if experiment.owner_id else None,
        "status": experiment.status,
        "salt": experiment.hash_seed,
        "phase": experiment.phase,
        "coverage": experiment.coverage,
        "unit_attribute": experiment.unit_attribute,
        "targeting": experiment.targeting,
        "data_source": experiment.data_source.key if experiment.data_source_id else None,
        "layer": experiment.layer.key if experiment.layer_id else None,
        "layer_range": (
            [experiment.layer_start, experiment.layer_end]
            if experiment.layer_start is not None
            else None
        ),
        "variants": [
            {
                "key": v.key,
                "name": v.name,
                "weight": v.weight,
                "is_control": v.is_control,
                "payload": v.payload,
            }
            for v in experiment.variants.all()
        ],
        "metrics": [
            {"metric": link.metric.key, "role": link.role}
            | ({"harm_threshold": link.harm_threshold} if link.role == "guardrail" else {})
            for link in experiment.metric_links.select_related("metric")
        ],
        "analysis_plan": experiment.analysis_plan,
        "decision": experiment.decision,
        "winner": experiment.winner.key if experiment.winner_id else None,
        "learnings": experiment.learnings,
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    experiment: Experiment | None = None,
    object_type: str = "experiment",
    object_key: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
) -> AuditLogEntry:
    """Write one audit-log entry."""
    return AuditLogEntry.objects.create(
        experiment=experiment,
        object_type=object_type,
        object_key=object_key or (experiment.key if experiment else ""),
        action=action,
        actor=actor.user,
        actor_label=actor.label,
        message=message[:500],
        before=before,
        after=after,
    )
