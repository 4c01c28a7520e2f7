"""The experiment lifecycle as data: one table of allowed transitions, one service applying it.

draft -> running <-> paused -> stopped -> concluded; archived from draft, stopped or concluded.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import TransitionNotAllowed, ValidationFailed
from core.limits import MAX_WEIGHT_TEXT, is_weight
from experiments.models import Decision, Experiment, ExperimentStatus, Phase

from .audit import audit_record, experiment_state
from .definitions_cache import definitions_changed
from .experiments import check_readout_texts
from .layers import layer_allocate
from .overlaps import overlap_warnings
from .validation import check_ready_to_start

S = ExperimentStatus
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((S.DRAFT,), S.RUNNING),
    "pause": ((S.RUNNING,), S.PAUSED),
    "resume": ((S.PAUSED,), S.RUNNING),
    "stop": ((S.RUNNING, S.PAUSED), S.STOPPED),
    "conclude": ((S.STOPPED,), S.CONCLUDED),
    "archive": ((S.DRAFT, S.STOPPED, S.CONCLUDED), S.ARCHIVED),
}


def allowed_actions(status: str) -> list[str]:
    """The lifecycle actions an experiment in ``status`` may take (plus new-phase when live)."""
    actions = [name for name, (sources, _) in TRANSITIONS.items() if status in sources]
    if status in (S.RUNNING, S.PAUSED):
        actions.append("new-phase")
    return actions


def _weights(experiment: Experiment) -> dict[str, float]:
    return {v.key: v.weight for v in experiment.variants.all()}


def _check_start(experiment: Experiment) -> None:
    errors = check_ready_to_start(
        variants=[
            {"key": v.key, "weight": v.weight, "is_control": v.is_control}
            for v in experiment.variants.all()
        ],
        metrics=[
            {"metric": link.metric.key, "role": link.role}
            for link in experiment.metric_links.select_related("metric")
        ],
        targeting=experiment.targeting,
    )
    if errors:
        raise ValidationFailed(errors)


def _apply_start(experiment: Experiment, now: Any) -> list[str]:
    """Start the experiment; returns warnings about live experiments it overlaps."""
    _check_start(experiment)
    if experiment.layer_id:
        experiment.layer_start, experiment.layer_end = layer_allocate(experiment=experiment)
    experiment.started_at = now
    Phase.objects.create(
        experiment=experiment,
        number=experiment.phase,
        salt=experiment.hash_seed,
        coverage=experiment.coverage,
        weights=_weights(experiment),
        reason="start",
        started_at=now,
    )
    return overlap_warnings(experiment=experiment)


def _in_default_language(messages: list[str], experiment: Experiment) -> list[str]:
    """The start warnings as the audit log keeps them: in the site's default language, whatever
    the language of the person who started the experiment."""
    if not messages or translation.get_language() == settings.LANGUAGE_CODE:
        return messages
    with translation.override(settings.LANGUAGE_CODE):
        return overlap_warnings(experiment=experiment)


def _apply_stop(experiment: Experiment, now: Any) -> None:
    experiment.stopped_at = now
    experiment.layer_start = experiment.layer_end = None
    Phase.objects.filter(experiment=experiment, ended_at__isnull=True).update(ended_at=now)


def _apply_conclude(experiment: Experiment, now: Any, params: dict[str, Any]) -> None:
    decision = params.get("decision")
    if decision not in Decision.values:
        raise ValidationFailed(
            {
                "decision": [
                    _("Choose one of: %(choices)s (got %(value)s).")
                    % {"choices": ", ".join(Decision.values), "value": repr(decision)}
                ]
            }
        )
    winner = None
    if decision == Decision.SHIP:
        key = params.get("winner")
        winner = experiment.variants.filter(key=key).first() if key else None
        if winner is None:
            raise ValidationFailed(
                {"winner": [_("Name the variant to ship (a variant key of this experiment).")]}
            )
        if winner.is_control:
            raise ValidationFailed(
                {"winner": [_("Shipping the control is the decision keep_control.")]}
            )
    elif params.get("winner"):
        raise ValidationFailed({"winner": [_("Only a ship decision names a winner.")]})
    experiment.decision = decision
    experiment.winner = winner
    experiment.conclusion_review = params.get("review", "") or ""
    if params.get("learnings") is not None:
        errors: dict[str, list[str]] = {}
        check_readout_texts({"learnings": params["learnings"]}, errors)
        if errors:
            raise ValidationFailed(errors)
        experiment.learnings = params["learnings"]
    experiment.concluded_at = now


@transaction.atomic
def experiment_transition(
    *, actor: Actor, experiment: Experiment, action: str, params: dict[str, Any] | None = None
) -> Experiment:
    """Apply a lifecycle action (start, pause, resume, stop, conclude, archive).

    Raises ``TransitionNotAllowed`` when the current status does not allow it and
    ``ValidationFailed`` when the experiment is not ready (for start) or input is wrong.
    The returned experiment's ``warnings`` lists what the caller should be told but that does
    not stop the action: for start, the live experiments it overlaps (recorded in the audit
    entry too).
    """
    if action not in TRANSITIONS:
        raise ValidationFailed(
            {"action": [_("Unknown action %(action)s.") % {"action": repr(action)}]}
        )
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    sources, target = TRANSITIONS[action]
    if experiment.status not in sources:
        allowed = ", ".join(allowed_actions(experiment.status)) or _("none")
        raise TransitionNotAllowed(
            {
                "status": [
                    _(
                        "Cannot %(action)s an experiment that is %(status)s. "
                        "Allowed now: %(allowed)s."
                    )
                    % {"action": action, "status": experiment.status, "allowed": allowed}
                ]
            }
        )
    before = experiment_state(experiment)
    now = timezone.now()
    warnings: list[str] = []
    if action == "start":
        warnings = _apply_start(experiment, now)
    elif action == "stop":
        _apply_stop(experiment, now)
    elif action == "conclude":
        _apply_conclude(experiment, now, params or {})
    experiment.status = target
    experiment.save()
    after = experiment_state(experiment)
    logged = _in_default_language(warnings, experiment)
    if logged:
        after["warnings"] = logged
    message = str((params or {}).get("reason", ""))
    audit_record(
        actor=actor,
        action=action,
        experiment=experiment,
        before=before,
        after=after,
        message=" ".join([message, *logged]).strip(),
    )
    definitions_changed()
    experiment.warnings = warnings
    return experiment


@transaction.atomic
def experiment_new_phase(
    *,
    actor: Actor,
    experiment: Experiment,
    coverage: float | None = None,
    weights: dict[str, float] | None = None,
    salt: str | None = None,
    reason: str = "",
) -> Experiment:
    """Begin a new phase: the explicit way to lower coverage, change weights or re-randomize.

    The new phase gets a new salt (given, or derived from the key and phase number), so every
    unit is assigned afresh and analysis counts exposures of the new phase only.
    """
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status not in (S.RUNNING, S.PAUSED):
        raise TransitionNotAllowed(
            {
                "status": [
                    _(
                        "A new phase starts only in a running or paused experiment; "
                        "this one is %(status)s."
                    )
                    % {"status": experiment.status}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    if coverage is not None and not 0 <= coverage <= 1:
        errors["coverage"] = [_("Coverage must be between 0 and 1.")]
    variants = {v.key: v for v in experiment.variants.all()}
    if weights is not None:
        unknown = sorted(set(weights) - set(variants))
        if unknown:
            errors["weights"] = [
                _("Unknown variant keys: %(keys)s.") % {"keys": ", ".join(unknown)}
            ]
        bad = [k for k, w in weights.items() if not is_weight(w)]
        if bad:
            errors.setdefault("weights", []).append(
                _("Weights must be numbers above 0 and at most %(max)s: %(keys)s.")
                % {"max": MAX_WEIGHT_TEXT, "keys": ", ".join(bad)}
            )
    new_number = experiment.phase + 1
    new_salt = salt or f"{experiment.key}:phase-{new_number}"
    if new_salt == experiment.hash_seed:
        errors["salt"] = [_("A new phase needs a new salt.")]
    if errors:
        raise ValidationFailed(errors)

    before = experiment_state(experiment)
    now = timezone.now()
    Phase.objects.filter(experiment=experiment, ended_at__isnull=True).update(ended_at=now)
    if weights:
        for key, weight in weights.items():
            variants[key].weight = weight
            variants[key].save(update_fields=["weight"])
    if coverage is not None:
        experiment.coverage = coverage
    experiment.salt = new_salt
    experiment.phase = new_number
    experiment.save()
    Phase.objects.create(
        experiment=experiment,
        number=new_number,
        salt=new_salt,
        coverage=experiment.coverage,
        weights=_weights(experiment),
        reason=reason,
        started_at=now,
    )
    audit_record(
        actor=actor,
        action="new_phase",
        experiment=experiment,
        before=before,
        after=experiment_state(experiment),
        message=reason,
    )
    definitions_changed()
    return experiment
