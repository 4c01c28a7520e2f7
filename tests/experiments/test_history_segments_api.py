"""History segments and the segment correction through the control-plane API: stored and
served in the analysis plan, bad input refused with a 400 naming the field (nothing stored),
audited, and copied by a duplicate."""

from __future__ import annotations

import copy

import pytest

from core.actors import Actor
from experiments.models import AuditLogEntry, Experiment
from experiments.services.duplicate import experiment_duplicate
from tests.experiments.test_api import BODY
from tests.factories import MetricFactory

HISTORY = {
    "kinds": ["spend_tier", "new_vs_returning", "rfm"],
    "days": 45,
    "value_event": "purchase",
    "value_field": "revenue",
}


@pytest.fixture
def metrics(db: None) -> None:
    MetricFactory(key="paid_conversion")
    MetricFactory(key="arpu", type="mean", value_field="revenue")


def _body(**plan) -> dict:
    body = copy.deepcopy(BODY)
    body["analysis_plan"].update(plan)
    return body


def test_history_segments__created__stored_served_audited_and_duplicated(editor, metrics) -> None:
    response = editor.post(
        "/api/v1/experiments",
        _body(history_segments=HISTORY, segment_correction="bh"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    plan = response.json()["analysis_plan"]
    # Kinds in their documented order.
    assert plan["history_segments"] == {
        **HISTORY,
        "kinds": ["new_vs_returning", "rfm", "spend_tier"],
    }
    assert plan["segment_correction"] == "bh"
    experiment = Experiment.objects.get(key=BODY["key"])
    entry = AuditLogEntry.objects.get(action="create", object_key=BODY["key"])
    assert entry.after["analysis_plan"]["segment_correction"] == "bh"

    response = editor.patch(
        f"/api/v1/experiments/{BODY['key']}",
        {"analysis_plan": {"history_segments": {}, "segment_correction": "none"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert "history_segments" not in response.json()["analysis_plan"]
    update = AuditLogEntry.objects.filter(action="update", object_key=BODY["key"]).latest("id")
    assert update.before["analysis_plan"]["history_segments"]["days"] == 45
    assert "history_segments" not in update.after["analysis_plan"]

    experiment.refresh_from_db()
    experiment.history_segments = {"kinds": ["new_vs_returning"], "days": 30}
    experiment.segment_correction = "holm"
    experiment.save()
    copy_ = experiment_duplicate(actor=Actor.system("test"), experiment=experiment)
    assert copy_.history_segments == experiment.history_segments
    assert copy_.segment_correction == "holm"


def test_history_segments__no_setting__plan_as_before(editor, metrics) -> None:
    response = editor.post("/api/v1/experiments", _body(), format="json")
    assert response.status_code == 201
    assert set(response.json()["analysis_plan"]) == {*BODY["analysis_plan"], "guardrail_auto_pause"}


@pytest.mark.parametrize(
    ("plan", "field", "words"),
    [
        ({"history_segments": {"kinds": ["vip"]}}, "analysis_plan.history_segments.kinds", "vip"),
        (
            {"history_segments": {"kinds": ["new_vs_returning"], "days": 0}},
            "analysis_plan.history_segments.days",
            "1 to 365",
        ),
        (
            {"history_segments": {"kinds": ["new_vs_returning"], "days": 400}},
            "analysis_plan.history_segments.days",
            "1 to 365",
        ),
        (
            {"history_segments": {"kinds": ["rfm"]}},
            "analysis_plan.history_segments.value_event",
            "spend",
        ),
        (
            {"history_segments": {"kinds": ["spend_tier"], "value_event": "bad event!"}},
            "analysis_plan.history_segments.value_event",
            "letters",
        ),
        (
            {"history_segments": {"kinds": ["rfm"], "value_event": "purchase", "colour": 1}},
            "analysis_plan.history_segments.colour",
            "unknown setting",
        ),
        ({"history_segments": ["rfm"]}, "analysis_plan.history_segments", "JSON object"),
        ({"segment_correction": "bonferroni"}, "analysis_plan.segment_correction", "valid choice"),
    ],
)
def test_history_segments__bad_input__400_names_the_field_and_stores_nothing(
    editor, metrics, plan, field, words
) -> None:
    response = editor.post("/api/v1/experiments", _body(**plan), format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()
    assert field in errors, errors
    assert words.lower() in str(errors[field]).lower()
    assert not Experiment.objects.exists()


def test_history_segments__audit_tab__changes_in_words_both_languages() -> None:
    from django.utils import translation

    from console.experiments.audit_diff import audit_entry_view

    before = {"analysis_plan": {"alpha": 0.05}}
    after = {
        "analysis_plan": {
            "alpha": 0.05,
            "history_segments": {"kinds": ["new_vs_returning", "rfm"], "days": 30},
            "segment_correction": "bh",
        }
    }
    with translation.override("en"):
        view = audit_entry_view(action="update", message="", before=before, after=after)
        shown = {c.label: c.after.text for c in view.changes if c.after}
    label = "Analysis plan › Segments from each unit's history before exposure › Segment kinds"
    assert shown[label] == "New or returning, RFM tier"
    assert shown["Analysis plan › Correction of segment p-values"] == "Benjamini-Hochberg"
    with translation.override("zh-hans"):
        view = audit_entry_view(action="update", message="", before=before, after=after)
        texts = [c.after.text for c in view.changes if c.after]
    assert "新用户或老用户, RFM 分层" in texts
