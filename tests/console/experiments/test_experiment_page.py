"""The experiment page: header and lifecycle actions with confirmation, tabs and their HTMX
partials, QA overrides, Try it, and each role's permissions."""

from __future__ import annotations

import json

import pytest

from assignment.models import Exposure
from core.actors import Actor
from experiments.models import AuditLogEntry, Experiment, Override
from experiments.services.experiments import experiment_update
from experiments.services.lifecycle import experiment_transition
from tests.console.helpers import client_as, has_field_error, results_json, store_snapshot
from tests.factories import ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _url(exp: Experiment, tail: str = "") -> str:
    return f"/experiments/{exp.key}/{tail}"


def test_overview__targeting_variants_metrics_plan__shown_in_words() -> None:
    exp = ready_experiment(
        key="pricing-pro",
        hypothesis="A 29 CNY Pro tier lifts paid conversion.",
        targeting={"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.2.0"}},
        coverage=0.5,
        mde=0.05,
    )
    html = client_as("viewer").get(_url(exp)).content.decode()
    assert "country is CN or SG, and app version ≥ 3.2.0" in html
    assert "A 29 CNY Pro tier lifts paid conversion." in html
    assert "&quot;variant&quot;: &quot;treatment&quot;" in html  # the payload, as JSON
    assert "50% of targeted units" in html
    assert "Primary" in html and "Conversion" in html
    assert "Minimum detectable effect" in html and "5%" in html
    assert 'aria-current="page"' in html


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        ("draft", ["start", "archive"]),
        ("running", ["pause", "stop", "new-phase"]),
        ("paused", ["resume", "stop", "new-phase"]),
    ],
)
def test_header__editor__buttons_the_status_allows(status, buttons) -> None:
    exp = started_experiment() if status != "draft" else ready_experiment()
    if status == "paused":
        experiment_transition(actor=Actor.system(), experiment=exp, action="pause")
    html = client_as("editor").get(_url(exp)).content.decode()
    shown = [
        a
        for a in ("start", "pause", "resume", "stop", "new-phase", "conclude", "archive")
        if f'data-action="{a}"' in html
    ]
    assert shown == sorted(
        buttons, key=["start", "pause", "resume", "stop", "new-phase", "conclude", "archive"].index
    )


def test_header__viewer__no_write_buttons() -> None:
    exp = started_experiment()
    html = client_as("viewer").get(_url(exp)).content.decode()
    assert "data-action=" not in html
    html = client_as("viewer", "v2").get(_url(exp, "overrides/")).content.decode()
    assert "Add override" not in html


@pytest.mark.parametrize("action", ["start", "pause", "new-phase", "conclude"])
def test_actions__viewer_forges_post__403_and_nothing_changes(action) -> None:
    exp = started_experiment()
    response = client_as("viewer").post(
        _url(exp, f"actions/{action}/"),
        {"reason": "x", "coverage": "0.5", "decision": "inconclusive"},
    )
    assert response.status_code == 403
    exp.refresh_from_db()
    assert (exp.status, exp.phase) == ("running", 1)


def test_overrides__viewer_forges_add_and_remove__403() -> None:
    exp = started_experiment()
    viewer = client_as("viewer")
    assert (
        viewer.post(
            _url(exp, "overrides/add/"), {"unit_id": "u1", "variant": "treatment"}
        ).status_code
        == 403
    )
    override = Override.objects.create(experiment=exp, unit_id="u2", variant=exp.variants.last())
    assert viewer.post(_url(exp, f"overrides/{override.pk}/remove/")).status_code == 403
    assert Override.objects.filter(pk=override.pk).exists()


def test_confirm_pause__get__says_every_unit_gets_the_control() -> None:
    exp = started_experiment()
    response = client_as("editor").get(_url(exp, "actions/pause/"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "every unit gets the control (control)" in html
    assert 'method="post"' in html


def test_confirm__htmx__only_the_confirm_panel() -> None:
    exp = started_experiment()
    html = client_as("editor").get(_url(exp, "actions/stop/"), **HX).content.decode()
    assert html.lstrip().startswith('<section id="confirm-panel"')
    assert "<nav" not in html


def test_start__overlapping_live_experiment__started_with_warning_message() -> None:
    started_experiment(key="pricing-a")
    exp = ready_experiment(key="pricing-b")
    editor = client_as("editor")
    response = editor.post(_url(exp, "actions/start/"), {"reason": ""}, follow=True)
    exp.refresh_from_db()
    assert exp.status == "running"
    html = response.content.decode()
    assert "units are being assigned" in html
    assert "pricing-a" in html  # the overlap warning, as a message


def test_start__not_ready__service_error_shown_and_still_draft() -> None:
    exp = ready_experiment()
    exp.variants.filter(is_control=False).delete()
    response = client_as("editor").post(_url(exp, "actions/start/"), {"reason": ""})
    assert response.status_code == 400
    assert 'class="notice error"' in response.content.decode()
    exp.refresh_from_db()
    assert exp.status == "draft"


def test_pause__htmx_post__client_redirect_and_paused() -> None:
    exp = started_experiment()
    response = client_as("editor").post(_url(exp, "actions/pause/"), {"reason": "bug"}, **HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == _url(exp)
    exp.refresh_from_db()
    assert exp.status == "paused"
    assert AuditLogEntry.objects.filter(experiment=exp, action="pause", message="bug").exists()


def test_new_phase__coverage_out_of_range__error_next_to_coverage_and_no_new_phase() -> None:
    exp = started_experiment()
    response = client_as("editor").post(
        _url(exp, "actions/new-phase/"),
        {"coverage": "2", "weight_control": "1", "weight_treatment": "1", "reason": "more"},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<section id="confirm-panel"')
    assert "Coverage must be between 0 and 1." in html
    assert has_field_error(html, "id_coverage")
    exp.refresh_from_db()
    assert exp.phase == 1


def test_new_phase__valid__phase_two_with_new_weights() -> None:
    exp = started_experiment()
    client_as("editor").post(
        _url(exp, "actions/new-phase/"),
        {"coverage": "0.5", "weight_control": "1", "weight_treatment": "3", "reason": "ramp"},
    )
    exp.refresh_from_db()
    assert (exp.phase, exp.coverage) == (2, 0.5)
    assert exp.variants.get(key="treatment").weight == 3


def test_conclude__ship_without_winner__service_error_next_to_winner() -> None:
    exp = started_experiment(mde=0.05, hypothesis="Pro lifts conversion")
    experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    editor = client_as("editor")
    form = editor.get(_url(exp, "actions/conclude/")).content.decode()
    assert "Pro lifts conversion" in form and "5%" in form  # the plan beside the form
    assert '<option value="control"' not in form  # the control is not a winner to ship
    response = editor.post(_url(exp, "actions/conclude/"), {"decision": "ship", "winner": ""})
    assert response.status_code == 400
    assert "Name the variant to ship" in response.content.decode()
    exp.refresh_from_db()
    assert exp.status == "stopped"


def test_conclude__winner_of_another_experiment__refused() -> None:
    other = ready_experiment(variants=("base", "elsewhere"))
    exp = started_experiment()
    experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    response = client_as("editor").post(
        _url(exp, "actions/conclude/"), {"decision": "ship", "winner": "elsewhere"}
    )
    assert response.status_code == 400
    assert other.variants.filter(key="elsewhere").exists()
    exp.refresh_from_db()
    assert exp.winner_id is None


def test_conclude__ship_treatment_with_review__concluded() -> None:
    exp = started_experiment()
    experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    client_as("editor").post(
        _url(exp, "actions/conclude/"),
        {"decision": "ship", "winner": "treatment", "review": "Expected +5%, got +11%."},
    )
    exp.refresh_from_db()
    assert (exp.status, exp.winner.key, exp.conclusion_review) == (
        "concluded",
        "treatment",
        "Expected +5%, got +11%.",
    )


def test_action__not_allowed_now__confirm_says_so_and_post_refused() -> None:
    exp = ready_experiment()
    editor = client_as("editor")
    assert "Not possible now" in editor.get(_url(exp, "actions/pause/")).content.decode()
    response = editor.post(_url(exp, "actions/pause/"), {"reason": ""})
    assert response.status_code == 400
    assert "Cannot pause an experiment that is draft" in response.content.decode()


@pytest.mark.parametrize("tab", ["results", "overrides", "audit", "integrate", "try"])
def test_tabs__full_page_and_htmx_partial(tab) -> None:
    exp = started_experiment()
    viewer = client_as("viewer")
    full = viewer.get(_url(exp, f"{tab}/"))
    assert full.status_code == 200
    assert "<html" in full.content.decode()
    partial = viewer.get(_url(exp, f"{tab}/"), HTTP_HX_TARGET="tab-panel", **HX).content.decode()
    assert partial.lstrip().startswith('<div id="tab-panel">')
    assert "<html" not in partial
    assert 'aria-current="page"' in partial


def test_overview__htmx__tab_panel_partial() -> None:
    exp = started_experiment()
    html = client_as("viewer").get(_url(exp), **HX).content.decode()
    assert html.lstrip().startswith('<div id="tab-panel">')


def test_tab__unknown__404() -> None:
    exp = started_experiment()
    assert client_as("viewer").get(_url(exp, "secrets/")).status_code == 404


def test_results_tab__snapshot__as_of_and_links_to_json_and_csv() -> None:
    exp = started_experiment()
    store_snapshot(exp, results_json())
    html = client_as("viewer").get(_url(exp, "results/")).content.decode()
    assert f"/api/v1/experiments/{exp.key}/results" in html
    assert f"/api/v1/experiments/{exp.key}/results.csv" in html


def test_overrides__add_and_remove_htmx__section_rerendered() -> None:
    exp = started_experiment()
    editor = client_as("editor")
    html = editor.post(
        _url(exp, "overrides/add/"),
        {"unit_id": "qa-1", "variant": "treatment", "note": "QA phone"},
        HTTP_HX_TARGET="overrides-section",
        **HX,
    ).content.decode()
    assert html.lstrip().startswith('<div id="overrides-section"')
    assert "qa-1" in html and "now always gets treatment" in html
    override = Override.objects.get(experiment=exp, unit_id="qa-1")
    html = editor.post(
        _url(exp, f"overrides/{override.pk}/remove/"), HTTP_HX_TARGET="overrides-section", **HX
    ).content.decode()
    assert "No overrides" in html
    assert not Override.objects.filter(experiment=exp).exists()


def test_overrides__unknown_unit_id_too_long__error_next_to_field() -> None:
    exp = started_experiment()
    response = client_as("editor").post(
        _url(exp, "overrides/add/"), {"unit_id": "   ", "variant": "treatment"}
    )
    assert response.status_code == 400
    assert has_field_error(response.content.decode(), "id_unit_id")


def test_audit_tab__weight_change__readable_before_and_after() -> None:
    exp = ready_experiment()
    experiment_update(
        actor=Actor.system("pm-ann"),
        experiment=exp,
        data={
            "variants": [
                {"key": "control", "name": "control", "weight": 1, "is_control": True},
                {
                    "key": "treatment",
                    "name": "treatment",
                    "weight": 3,
                    "payload": {"variant": "treatment"},
                },
            ]
        },
    )
    html = client_as("viewer").get(_url(exp, "audit/")).content.decode()
    assert "pm-ann" in html
    assert 'title="variants[treatment].weight">Variants › treatment › Weight' in html
    assert "<del>1</del>" in html and "<ins>3</ins>" in html


def test_integrate_tab__snippets_name_this_experiment() -> None:
    exp = started_experiment(key="onboarding-checklist", targeting={"country": "CN"})
    html = client_as("viewer").get(_url(exp, "integrate/")).content.decode()
    assert "/api/v1/assign" in html and "/api/v1/events" in html
    assert "&quot;experiments&quot;: [&quot;onboarding-checklist&quot;]" in html
    assert "&quot;country&quot;" in html
    assert "VerdictClient" in html


def test_try_it__same_answer_as_assign_api_and_nothing_recorded(app_client) -> None:
    exp = started_experiment(targeting={"country": "CN"})
    attributes = {"country": "CN"}
    api = app_client.post(
        "/api/v1/assign",
        {"unit_id": "u-77", "attributes": attributes, "experiments": [exp.key], "track": False},
        format="json",
    ).json()
    viewer = client_as("viewer")
    response = viewer.get(
        _url(exp, "try/"),
        {"unit_id": "u-77", "attributes": json.dumps(attributes)},
        HTTP_HX_TARGET="try-result",
        **HX,
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="try-result"')
    answer = api["assignments"][0]
    assert f"<strong>{answer['variant']}</strong>" in html
    assert f'<code class="try-reason">{answer["reason"]}</code>' in html
    assert Exposure.objects.count() == 0


def test_try_it__not_targeted__reason_in_words() -> None:
    exp = started_experiment(targeting={"country": "CN"})
    html = (
        client_as("viewer")
        .get(_url(exp, "try/"), {"unit_id": "u-1", "attributes": '{"country": "US"}'})
        .content.decode()
    )
    assert "not_targeted" in html and "not targeted" in html


@pytest.mark.parametrize(
    ("attributes", "message"),
    [("{not json", "Not valid JSON"), ('{"a": {"b": 1}}', "a")],
)
def test_try_it__bad_attributes__400_with_error_next_to_field(attributes, message) -> None:
    exp = started_experiment()
    response = client_as("viewer").get(
        _url(exp, "try/"), {"unit_id": "u-1", "attributes": attributes}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert has_field_error(html, "id_attributes")
    assert message in html


def test_breaker_pause__latest_pause_by_analysis__reason_shown() -> None:
    exp = started_experiment()
    experiment_transition(
        actor=Actor.system("analysis"),
        experiment=exp,
        action="pause",
        params={"reason": "Guardrail revenue worse by 7% (snapshot 12)."},
    )
    html = client_as("viewer").get(_url(exp)).content.decode()
    assert "Paused by the guardrail circuit breaker" in html
    assert "Guardrail revenue worse by 7% (snapshot 12)." in html


def test_breaker_pause__paused_by_a_person__no_breaker_notice() -> None:
    exp = started_experiment()
    experiment_transition(actor=Actor.system("pm"), experiment=exp, action="pause")
    html = client_as("viewer").get(_url(exp)).content.decode()
    assert "circuit breaker" not in html.split("<main>")[1].split('id="tab-panel"')[0]


def test_detail__unknown_key__404_and_anonymous__login() -> None:
    assert client_as("viewer").get("/experiments/nope/").status_code == 404
    from django.test import Client

    assert Client().get("/experiments/nope/").status_code == 302
