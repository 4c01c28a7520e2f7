"""The transition table: every allowed and forbidden lifecycle action, and what each one does."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.errors import TransitionNotAllowed, ValidationFailed
from experiments.models import AuditLogEntry, ExperimentStatus, Phase
from experiments.services.lifecycle import TRANSITIONS, experiment_transition
from tests.factories import LayerFactory, ready_experiment

ACTOR = Actor.system("test")
ALL_STATUSES = [s.value for s in ExperimentStatus]
CASES = [
    (action, status, status in sources)
    for action, (sources, _) in TRANSITIONS.items()
    for status in ALL_STATUSES
]


def _experiment_in(status: str):
    experiment = ready_experiment()
    experiment.status = status
    experiment.save()
    return experiment


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "status", "allowed"), CASES)
def test_transition__each_action_from_each_status__allowed_only_by_the_table(
    action: str, status: str, allowed: bool
) -> None:
    experiment = _experiment_in(status)
    params = {"decision": "keep_control"} if action == "conclude" else {}
    if allowed:
        result = experiment_transition(
            actor=ACTOR, experiment=experiment, action=action, params=params
        )
        assert result.status == TRANSITIONS[action][1]
    else:
        with pytest.raises(TransitionNotAllowed, match=f"Cannot {action}"):
            experiment_transition(actor=ACTOR, experiment=experiment, action=action, params=params)
        experiment.refresh_from_db()
        assert experiment.status == status


def test_transition_table__matches_the_documented_lifecycle() -> None:
    S = ExperimentStatus
    assert TRANSITIONS["start"] == ((S.DRAFT,), S.RUNNING)
    assert TRANSITIONS["pause"] == ((S.RUNNING,), S.PAUSED)
    assert TRANSITIONS["resume"] == ((S.PAUSED,), S.RUNNING)
    assert set(TRANSITIONS["stop"][0]) == {S.RUNNING, S.PAUSED}
    assert TRANSITIONS["conclude"] == ((S.STOPPED,), S.CONCLUDED)
    assert set(TRANSITIONS["archive"][0]) == {S.DRAFT, S.STOPPED, S.CONCLUDED}


@pytest.mark.django_db
def test_start__ready_experiment__records_phase_one_and_audit_entry() -> None:
    experiment = ready_experiment(key="price-test")
    experiment_transition(actor=ACTOR, experiment=experiment, action="start")
    phase = Phase.objects.get(experiment=experiment)
    assert (phase.number, phase.salt, phase.coverage) == (1, "price-test", 1.0)
    assert phase.weights == {"control": 1.0, "treatment": 1.0}
    entry = AuditLogEntry.objects.filter(experiment=experiment, action="start").get()
    assert entry.actor_label == "test"
    assert entry.before["status"] == "draft" and entry.after["status"] == "running"


@pytest.mark.django_db
def test_full_lifecycle__through_conclusion__keeps_decision_and_winner() -> None:
    experiment = ready_experiment()
    for action in ("start", "pause", "resume", "stop"):
        experiment = experiment_transition(actor=ACTOR, experiment=experiment, action=action)
    experiment = experiment_transition(
        actor=ACTOR,
        experiment=experiment,
        action="conclude",
        params={"decision": "ship", "winner": "treatment", "review": "Expected +5%, saw +7%."},
    )
    assert experiment.status == "concluded"
    assert experiment.winner.key == "treatment"
    assert experiment.conclusion_review == "Expected +5%, saw +7%."
    actions = list(
        AuditLogEntry.objects.filter(experiment=experiment)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["start", "pause", "resume", "stop", "conclude"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"decision": "ship"}, "winner"),
        ({"decision": "ship", "winner": "control"}, "winner"),
        ({"decision": "ship", "winner": "nope"}, "winner"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": "keep_control", "winner": "treatment"}, "winner"),
    ],
)
def test_conclude__bad_decision__rejected_with_field_and_status_unchanged(
    params: dict, field: str
) -> None:
    experiment = _experiment_in("stopped")
    with pytest.raises(ValidationFailed) as info:
        experiment_transition(actor=ACTOR, experiment=experiment, action="conclude", params=params)
    assert field in info.value.errors
    experiment.refresh_from_db()
    assert experiment.status == "stopped"


@pytest.mark.django_db
def test_layer__two_experiments_start__get_disjoint_slices_and_stop_frees_them() -> None:
    layer = LayerFactory(key="checkout")
    first = ready_experiment(key="a", layer=layer, layer_share=0.5)
    second = ready_experiment(key="b", layer=layer, layer_share=0.5)
    third = ready_experiment(key="c", layer=layer, layer_share=0.5)
    first = experiment_transition(actor=ACTOR, experiment=first, action="start")
    second = experiment_transition(actor=ACTOR, experiment=second, action="start")
    assert (first.layer_start, first.layer_end) == (0.0, 0.5)
    assert (second.layer_start, second.layer_end) == (0.5, 1.0)
    with pytest.raises(ValidationFailed, match="no free slice"):
        experiment_transition(actor=ACTOR, experiment=third, action="start")
    experiment_transition(actor=ACTOR, experiment=first, action="stop")
    third = experiment_transition(actor=ACTOR, experiment=third, action="start")
    assert (third.layer_start, third.layer_end) == (0.0, 0.5)
