"""The conclude dialog asks for a winner only when the decision ships a variant: server-side
(so without JavaScript too), and swapped in with HTMX as the decision changes."""

from __future__ import annotations

import re

import pytest

from core.actors import Actor
from experiments.models import Experiment
from experiments.services.lifecycle import experiment_transition
from tests.console.helpers import client_as, has_field_error
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db


def _stopped() -> Experiment:
    exp = started_experiment(
        mde=0.05, hypothesis="Pro lifts conversion", variants=("control", "pro")
    )
    return experiment_transition(actor=Actor.system(), experiment=exp, action="stop")


def _url(exp: Experiment) -> str:
    return f"/experiments/{exp.key}/actions/conclude/"


def test_dialog__no_decision_yet__no_winner_field_plan_beside_it() -> None:
    html = client_as("editor").get(_url(_stopped())).content.decode()
    assert 'name="decision"' in html and 'name="winner"' not in html
    assert 'id="winner-field"' in html
    assert "Pro lifts conversion" in html and "5%" in html


@pytest.mark.parametrize("decision", ["keep_control", "inconclusive"])
def test_dialog__decision_without_winner__no_winner_field(decision) -> None:
    html = client_as("editor").get(_url(_stopped()), {"decision": decision}).content.decode()
    assert re.search(rf'value="{decision}" id="id_decision_\d" required checked>', html)
    assert 'name="winner"' not in html


def test_dialog__ship_link__winner_choice_of_non_control_variants() -> None:
    html = client_as("editor").get(_url(_stopped()), {"decision": "ship"}).content.decode()
    winner = html.split('name="winner"')[1].split("</select>")[0]
    assert '<option value="pro"' in winner and '<option value="control"' not in winner
    assert 'value="ship" id="id_decision_0" required checked>' in html


def test_htmx_decision_change__only_the_winner_field_swapped() -> None:
    editor = client_as("editor")
    exp = _stopped()
    shipped = editor.get(_url(exp), {"part": "winner", "decision": "ship"}, HTTP_HX_REQUEST="true")
    html = shipped.content.decode()
    assert html.lstrip().startswith('<div id="winner-field">')
    assert 'name="winner"' in html and "<form" not in html
    kept = editor.get(
        _url(exp), {"part": "winner", "decision": "keep_control"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert kept.lstrip().startswith('<div id="winner-field">') and 'name="winner"' not in kept


def test_post__ship_without_winner__error_on_winner_field_nothing_concluded() -> None:
    exp = _stopped()
    response = client_as("editor").post(_url(exp), {"decision": "ship"})
    assert response.status_code == 400
    html = response.content.decode()
    assert has_field_error(html, "id_winner")
    field = html.split('for="id_winner"')[1].split("</div>")[0]
    assert "Name the variant to ship (a variant key of this experiment)." in field
    exp.refresh_from_db()
    assert exp.status == "stopped"


def test_post__keep_control_with_a_winner_posted__winner_dropped_concluded() -> None:
    exp = _stopped()
    response = client_as("editor").post(
        _url(exp), {"decision": "keep_control", "winner": "pro", "review": "No lift."}
    )
    assert response.status_code == 302
    exp.refresh_from_db()
    assert (exp.status, exp.decision, exp.winner_id, exp.conclusion_review) == (
        "concluded",
        "keep_control",
        None,
        "No lift.",
    )


def test_post__ship_with_winner__concluded_with_that_winner() -> None:
    exp = _stopped()
    client_as("editor").post(_url(exp), {"decision": "ship", "winner": "pro"})
    exp.refresh_from_db()
    assert (exp.status, exp.decision, exp.winner.key) == ("concluded", "ship", "pro")
