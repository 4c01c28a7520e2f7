"""The audit tab reads field by field in the reader's language: a created experiment's fields
folded and without empty ones, long values whole behind <details>, warnings as sentences."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from console.experiments.audit_diff import audit_changes, audit_entry_view, field_label
from core.actors import Actor
from experiments.models import Experiment
from experiments.services.experiments import experiment_create
from experiments.services.lifecycle import experiment_transition
from tests.console.helpers import client_as
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db
LONG_HYPOTHESIS = (
    "Offering a Pro tier at 29 CNY per month lifts paid conversion by at least five percent "
    "among returning users in China and Singapore, without more refunds."
)


def pricing(key: str = "pricing-pro", **fields) -> Experiment:
    MetricFactory(key="conversion")
    data = {
        "key": key,
        "name": "Pro tier at 29 CNY",
        "kind": "pricing",
        "hypothesis": LONG_HYPOTHESIS,
        "targeting": {"country": {"$in": ["CN", "SG"]}},
        "coverage": 0.8,
        "variants": [
            {"key": "control", "name": "Free", "weight": 1, "is_control": True},
            {"key": "pro", "name": "Pro", "weight": 1, "payload": {"monthly_price": 29}},
        ],
        "metrics": [{"metric": "conversion", "role": "primary"}],
    } | fields
    return experiment_create(actor=Actor.system("pm-ann"), data=data)


def audit_html(exp: Experiment, language: str = "en") -> str:
    client = client_as("viewer")
    client.cookies["django_language"] = language
    return client.get(f"/experiments/{exp.key}/audit/").content.decode()


def test_created_entry__fields_by_label_folded__no_raw_json_no_empty_rows() -> None:
    exp = pricing()
    html = audit_html(exp)
    created = html.split("Created the experiment", 1)[1]
    assert re.search(r"<details class=\"audit-fields\">\s*<summary>Show the \d+ fields", created)
    assert ">Hypothesis</th>" in created and ">Coverage</th>" in created
    assert "80%" in created  # a share as a percentage, not 0.8
    assert "country is CN or SG" in created  # the condition in words
    assert "Variants › pro › Weight" in created
    assert '{"analysis_plan"' not in html and "&quot;key&quot;: &quot;pricing-pro" not in html
    # Empty fields (no decision, no learnings, no data source yet) are left out.
    for empty in (">Decision</th>", ">Learnings</th>", ">Winner</th>", ">Data source</th>"):
        assert empty not in created


def test_long_value__whole_text_behind_details__not_cut() -> None:
    exp = pricing()
    html = audit_html(exp)
    assert '<details class="audit-value"><summary>Offering a Pro tier' in html
    assert LONG_HYPOTHESIS in html  # the whole of it, one click away


def test_start_with_overlap__warning_as_a_sentence__not_a_json_string() -> None:
    pricing("pricing-a")
    other = pricing("pricing-b")
    experiment_transition(
        actor=Actor.system("pm-ann"),
        experiment=Experiment.objects.get(key="pricing-a"),
        action="start",
    )
    experiment_transition(actor=Actor.system("pm-ann"), experiment=other, action="start")
    html = audit_html(other)
    warnings = html.split(">Warnings</th>", 1)[1].split("</tr>", 1)[0]
    assert '<ul class="audit-lines"><li>' in warnings
    assert "pricing-a" in warnings
    assert "[&quot;" not in warnings and "\\&quot;" not in html and '\\"' not in html
    assert "Running" in html and "Draft" in html  # the status by its label


def test_audit_tab__chinese_reader__field_names_and_values_translated() -> None:
    exp = pricing()
    experiment_transition(actor=Actor.system("pm-ann"), experiment=exp, action="start")
    html = audit_html(exp, "zh-hans")
    assert "假设" in html and "覆盖率" in html
    assert "进行中" in html  # status "running"
    assert ">Hypothesis</th>" not in html and ">Status</th>" not in html


def test_field_label__path__labels_and_item_keys() -> None:
    with translation.override("en"):
        assert field_label("variants[treatment].weight") == "Variants › treatment › Weight"
        assert field_label("analysis_plan.alpha") == "Analysis plan › Significance level (alpha)"
        assert field_label("something_new") == "something_new"


def test_entry_view__update__before_and_after_in_words() -> None:
    with translation.override("en"):
        view = audit_entry_view(
            action="update",
            message="",
            before={"coverage": 0.5, "status": "draft", "note": ""},
            after={"coverage": 0.75, "status": "running", "note": ""},
        )
    assert not view.folded
    shown = {c.label: (c.before.text, c.after.text) for c in view.changes}
    assert shown == {"Coverage": ("50%", "75%"), "Status": ("Draft", "Running")}


def test_audit_changes__created_object__listed_field_by_field() -> None:
    changes = audit_changes(None, {"variants": [{"key": "a", "weight": 1.0}], "note": ""})
    assert [c.path for c in changes] == ["variants[a].weight", "note"]  # the key is in the path


def test_entry_view__override_set__short_record_listed_open_without_empty_note() -> None:
    with translation.override("en"):
        view = audit_entry_view(
            action="override_set",
            message="",
            before=None,
            after={"unit_id": "qa-anna", "variant": "pro", "note": ""},
        )
    assert view.created and not view.folded
    assert [(c.label, c.after.text) for c in view.changes] == [
        ("Unit id", "qa-anna"),
        ("Variant", "pro"),
    ]


def test_audit_changes__record_keys_in_any_stored_order__listed_in_the_forms_order() -> None:
    """PostgreSQL's jsonb keeps an object's keys sorted by length, SQLite as written: a created
    record lists its fields in the form's order either way."""
    from console.experiments.audit_diff import audit_changes

    as_written = {"key": "k", "name": "N", "hypothesis": "H", "targeting": {"a": 1}}
    as_jsonb = {"key": "k", "name": "N", "targeting": {"a": 1}, "hypothesis": "H"}
    paths = [c.path for c in audit_changes(None, as_written)]
    assert [c.path for c in audit_changes(None, as_jsonb)] == paths
    assert paths.index("hypothesis") < paths.index("targeting")
