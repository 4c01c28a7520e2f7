"""The readout (复盘) page: plan, effects, decision, guardrails, segments, health, timeline and
learnings; its snapshot permalink; the learnings form; the conclude dialog that leads to it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from analysis.selectors import snapshot_results
from analysis.services.snapshots import experiment_refresh
from console.readout.views import interval_text
from console.report.rows import metric_tables
from core.actors import Actor
from experiments.models import AuditLogEntry, Experiment
from experiments.services.lifecycle import experiment_transition
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as, has_field_error

H = dt.timedelta(hours=1)


@pytest.fixture
def exp(db: None) -> Experiment:
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("spend", "mean", value_field="revenue"), "guardrail")]
    )
    Experiment.objects.filter(pk=exp.pk).update(
        hypothesis="A checklist brings more users back.",
        expected_effect="+5% conversion",
        learnings="Checklists beat tours for new users.",
    )
    exp.refresh_from_db()
    d = Data(exp)
    for i in range(400):
        unit = f"u{i}"
        treated = i % 2 == 1
        d.expose(
            unit,
            "treatment" if treated else "control",
            T0,
            attributes={"platform": "ios" if i % 4 < 2 else "android"},
        )
        if (treated and i % 3 != 0) or (not treated and i % 5 == 0):
            d.event(unit, T0 + H, value=float(i % 7))
    d.save()
    return exp


def _url(exp: Experiment, snapshot_id: int | None = None) -> str:
    tail = f"{snapshot_id}/" if snapshot_id else ""
    return f"/experiments/{exp.key}/readout/{tail}"


def _section(html: str, section_id: str) -> str:
    return html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_readout__latest_snapshot__every_part_of_the_review(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    response = client_as("viewer").get(_url(exp))
    assert response.status_code == 200
    html = response.content.decode()
    plan = _section(html, "plan")
    assert "A checklist brings more users back." in plan and "+5% conversion" in plan
    actual = _section(html, "actual")
    assert "conv" in actual and "↑ better" in actual
    assert re.search(r'class="interval">\[[-+]\d', actual)  # the interval beside the effect
    decision = _section(html, "decision")
    assert "Not concluded yet." in decision and "What the analysis recommends" in decision
    assert "spend" in _section(html, "guardrails")
    assert "Sample ratio (SRM)" in _section(html, "health")
    segments = _section(html, "segments")
    assert "platform = ios" in segments and "platform = android" in segments
    assert "badge-good" in segments  # each segment's own SRM
    assert "Start" in _section(html, "timeline")
    assert "Checklists beat tours for new users." in _section(html, "learnings")
    assert "verdict/readout.css" in html


def test_readout__no_snapshot__plan_and_learnings_say_no_analysis_yet(exp) -> None:
    html = client_as("viewer").get(_url(exp)).content.decode()
    assert "+5% conversion" in html and "No analysis yet" in html
    assert 'id="learnings"' in html and 'id="timeline"' in html


def test_readout__permalink__that_snapshot_and_404_for_another(exp) -> None:
    old = experiment_refresh(experiment=exp, as_of=T0 + 5 * H)
    new = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    viewer = client_as("viewer")
    latest = viewer.get(_url(exp)).content.decode()
    assert f'href="{_url(exp, new.pk)}" rel="bookmark"' in latest
    pinned = viewer.get(_url(exp, old.pk)).content.decode()
    assert f'href="{_url(exp, old.pk)}" rel="bookmark"' in pinned
    assert "pinned to one snapshot" in pinned
    assert viewer.get(_url(exp, 999999)).status_code == 404


def test_interval_text__row__signed_percentages_in_the_locale(exp) -> None:
    results = snapshot_results(snapshot=experiment_refresh(experiment=exp, as_of=T0 + 10 * H))
    row = metric_tables(results)[0].rows[0]
    low, high = row.variant.ci
    text = interval_text(row)
    shown = [float(x.rstrip("%")) for x in text.strip("[]").split(", ")]
    assert text.startswith("[") and text.count("%") == 2
    assert shown == pytest.approx([low * 100, high * 100], abs=0.006)
    with translation.override("de"):
        assert "," in interval_text(row).strip("[]").split(", ")[0]  # decimal comma


def test_readout__zh_hans__headings_in_chinese(exp) -> None:
    experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
    client = client_as("viewer")
    html = client.get(_url(exp), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for words in ("复盘", "预期", "学到"):
        assert words in html


def test_learnings__editor__saved_audited_and_back_on_the_readout(exp) -> None:
    editor = client_as("editor")
    response = editor.post(f"{_url(exp)}learnings/", {"learnings": "Ship checklists to all."})
    assert response.status_code == 302 and response["Location"].endswith("/readout/#learnings")
    exp.refresh_from_db()
    assert exp.learnings == "Ship checklists to all."
    entry = AuditLogEntry.objects.filter(experiment=exp, action="learnings").get()
    assert entry.before == {"learnings": "Checklists beat tours for new users."}
    assert entry.after == {"learnings": "Ship checklists to all."}
    assert "Ship checklists to all." in editor.get(_url(exp)).content.decode()


def test_learnings__viewer__refused_403_and_no_form(exp) -> None:
    viewer = client_as("viewer")
    assert viewer.post(f"{_url(exp)}learnings/", {"learnings": "x"}).status_code == 403
    assert 'name="learnings"' not in viewer.get(_url(exp)).content.decode()
    exp.refresh_from_db()
    assert exp.learnings == "Checklists beat tours for new users."


def test_learnings__too_long__error_next_to_the_field_and_unchanged(exp) -> None:
    response = client_as("editor").post(f"{_url(exp)}learnings/", {"learnings": "x" * 20001})
    assert response.status_code == 400
    assert has_field_error(response.content.decode(), "id_learnings")
    exp.refresh_from_db()
    assert exp.learnings == "Checklists beat tours for new users."


def test_conclude__learnings__stored_in_the_conclusion_and_lands_on_the_readout(exp) -> None:
    exp = experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    editor = client_as("editor")
    dialog = editor.get(f"/experiments/{exp.key}/actions/conclude/").content.decode()
    assert 'name="learnings"' in dialog and f"/experiments/{exp.key}/readout/" in dialog
    assert "+5% conversion" in dialog  # the expected effect beside the decision
    response = editor.post(
        f"/experiments/{exp.key}/actions/conclude/",
        {"decision": "keep_control", "review": "", "learnings": "Tours are not worth it."},
    )
    assert response.status_code == 302 and response["Location"] == _url(exp)
    exp.refresh_from_db()
    assert exp.status == "concluded" and exp.learnings == "Tours are not worth it."
    entry = AuditLogEntry.objects.filter(experiment=exp, action="conclude").get()
    assert entry.after["learnings"] == "Tours are not worth it."
    html = editor.get(_url(exp)).content.decode()
    assert "Keep control" in _section(html, "decision")
    assert "Conclude" in _section(html, "timeline")


def test_experiment_page_and_list__viewer__link_to_the_readout(exp) -> None:
    viewer = client_as("viewer")
    link = f'href="/experiments/{exp.key}/readout/"'
    assert link in viewer.get(f"/experiments/{exp.key}/").content.decode()
    assert link in viewer.get("/experiments/").content.decode()


def test_overview__expected_effect_and_concluded__shown_with_a_link_to_the_readout(exp) -> None:
    exp = experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    experiment_transition(
        actor=Actor.system(),
        experiment=exp,
        action="conclude",
        params={"decision": "inconclusive"},
    )
    html = client_as("viewer").get(f"/experiments/{exp.key}/").content.decode()
    assert "Expected effect" in html and "+5% conversion" in html
    assert f'<a href="/experiments/{exp.key}/readout/">Read the readout' in html


def test_conclude__htmx_dialog__client_redirect_to_the_readout(exp) -> None:
    exp = experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    response = client_as("editor").post(
        f"/experiments/{exp.key}/actions/conclude/",
        {"decision": "inconclusive", "learnings": "Not enough traffic on weekdays."},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"] == _url(exp)
    exp.refresh_from_db()
    assert exp.learnings == "Not enough traffic on weekdays."


def test_conclude__learnings_too_long__error_next_to_it_and_still_stopped(exp) -> None:
    exp = experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    response = client_as("editor").post(
        f"/experiments/{exp.key}/actions/conclude/",
        {"decision": "inconclusive", "learnings": "x" * 20001},
    )
    assert response.status_code == 400
    assert has_field_error(response.content.decode(), "id_learnings")
    exp.refresh_from_db()
    assert exp.status == "stopped" and exp.learnings == "Checklists beat tours for new users."
