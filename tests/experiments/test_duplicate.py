"""Duplicating an experiment as a new draft, through the service and the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analysis.models import ResultSnapshot
from assignment.models import Exposure
from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import AuditLogEntry, Experiment, ExperimentMetric, Override
from experiments.services.duplicate import experiment_duplicate
from tests.factories import LayerFactory, MetricFactory, started_experiment

ACTOR = Actor.system("test")


@pytest.fixture
def original(db: None) -> Experiment:
    """A running pricing experiment with a layer, targeting, a plan, a guardrail, exposures, a
    snapshot and a QA override: everything a copy takes, and everything it leaves behind."""
    layer = LayerFactory(key="checkout")
    experiment = started_experiment(
        key="pricing",
        name="Pro price",
        hypothesis="39 a month raises revenue per user.",
        targeting={"country": {"$in": ["CN", "SG"]}},
        coverage=0.8,
        layer=layer,
        layer_share=0.5,
        alpha=0.1,
        method="sequential",
        correction="holm",
        cuped=True,
        mde=0.04,
        learnings="Written after the last test.",
    )
    variants = list(experiment.variants.all())
    variants[0].weight, variants[0].payload = 2.0, {"monthly_price": 29}
    variants[1].weight, variants[1].payload = 1.0, {"monthly_price": 39}
    for v in variants:
        v.save()
    ExperimentMetric.objects.create(
        experiment=experiment,
        metric=MetricFactory(key="refunds"),
        role="guardrail",
        position=1,
        harm_threshold=0.02,
    )
    Exposure.objects.create(
        experiment=experiment,
        phase=1,
        unit_id="u1",
        bucket_id="u1",
        variant=variants[1],
        first_exposed_at=timezone.now(),
    )
    Override.objects.create(experiment=experiment, unit_id="qa-1", variant=variants[1])
    ResultSnapshot.objects.create(
        experiment=experiment,
        phase=1,
        status="ok",
        as_of=timezone.now(),
        computed_at=timezone.now(),
        results={},
    )
    return experiment


def test_duplicate__running_experiment__new_draft_with_the_design_and_no_history(original):
    copy = experiment_duplicate(actor=ACTOR, experiment=original)

    assert copy.key == "pricing-copy"
    assert copy.name == "Pro price (copy)"
    assert copy.status == "draft"
    assert copy.hypothesis == original.hypothesis
    assert copy.targeting == {"country": {"$in": ["CN", "SG"]}}
    assert (copy.coverage, copy.layer.key, copy.layer_share) == (0.8, "checkout", 0.5)
    assert copy.analysis_plan == original.analysis_plan
    assert [(v.key, v.weight, v.is_control, v.payload) for v in copy.variants.all()] == [
        ("control", 2.0, True, {"monthly_price": 29}),
        ("treatment", 1.0, False, {"monthly_price": 39}),
    ]
    links = [(m.metric.key, m.role, m.harm_threshold) for m in copy.metric_links.all()]
    assert links == [("conversion", "primary", None), ("refunds", "guardrail", 0.02)]
    assert copy.salt and copy.hash_seed != original.hash_seed
    assert (copy.phase, copy.started_at, copy.layer_start, copy.learnings) == (1, None, None, "")
    assert not copy.exposures.exists()
    assert not copy.overrides.exists()
    assert not ResultSnapshot.objects.filter(experiment=copy).exists()
    original.refresh_from_db()
    assert original.status == "running" and original.exposures.count() == 1


def test_duplicate__any_run__audit_entry_on_both(original):
    copy = experiment_duplicate(actor=ACTOR, experiment=original)

    on_copy = AuditLogEntry.objects.get(experiment=copy)
    assert on_copy.action == "duplicate"
    assert on_copy.message == 'Duplicated from "pricing".'
    assert on_copy.after["variants"][1]["payload"] == {"monthly_price": 39}
    on_original = AuditLogEntry.objects.get(experiment=original, action="duplicate")
    assert on_original.message == 'Duplicated as the new draft "pricing-copy".'


def test_duplicate__copies_taken__next_free_numbered_key(original):
    keys = [experiment_duplicate(actor=ACTOR, experiment=original).key for _ in range(3)]
    assert keys == ["pricing-copy", "pricing-copy-2", "pricing-copy-3"]


def test_duplicate__longest_key__suffix_fits_within_the_limit(original):
    long = experiment_duplicate(actor=ACTOR, experiment=original, key="k" * 64)
    copy = experiment_duplicate(actor=ACTOR, experiment=long)
    assert copy.key == "k" * 59 + "-copy"


def test_duplicate__given_key_and_name__used(original):
    copy = experiment_duplicate(actor=ACTOR, experiment=original, key="pricing-q3", name="Q3")
    assert (copy.key, copy.name) == ("pricing-q3", "Q3")


@pytest.mark.parametrize(
    ("key", "name", "field"),
    [
        ("pricing", None, "key"),
        ("not a key", None, "key"),
        ("k" * 65, None, "key"),
        (None, "   ", "name"),
        (None, "n" * 201, "name"),
    ],
)
def test_duplicate__bad_input__field_error_and_nothing_stored(original, key, name, field):
    with pytest.raises(ValidationFailed) as failed:
        experiment_duplicate(actor=ACTOR, experiment=original, key=key, name=name)
    assert list(failed.value.errors) == [field]
    assert Experiment.objects.count() == 1


def test_api_duplicate__no_body__201_with_the_copy(editor, original):
    response = editor.post("/api/v1/experiments/pricing/duplicate", {}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["key"], body["status"]) == ("pricing-copy", "draft")
    assert [v["payload"] for v in body["variants"]] == [
        {"monthly_price": 29},
        {"monthly_price": 39},
    ]


def test_api_duplicate__new_key_and_name__201(editor, original):
    response = editor.post(
        "/api/v1/experiments/pricing/duplicate",
        {"key": "pricing-2027", "name": "Pro price 2027"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Experiment.objects.get(key="pricing-2027").name == "Pro price 2027"


def test_api_duplicate__taken_key__400_on_key_and_nothing_stored(editor, original):
    response = editor.post(
        "/api/v1/experiments/pricing/duplicate", {"key": "pricing"}, format="json"
    )
    assert response.status_code == 400
    assert "exists" in response.json()["key"][0]
    assert Experiment.objects.count() == 1


def test_api_duplicate__bad_key_or_unknown_field__400_names_the_field(editor, original):
    bad = editor.post("/api/v1/experiments/pricing/duplicate", {"key": "a b"}, format="json")
    unknown = editor.post("/api/v1/experiments/pricing/duplicate", {"salt": "x"}, format="json")
    assert (bad.status_code, list(bad.json())) == (400, ["key"])
    assert (unknown.status_code, list(unknown.json())) == (400, ["salt"])


def test_api_duplicate__unknown_experiment__404(editor, db):
    assert editor.post("/api/v1/experiments/nope/duplicate", {}, format="json").status_code == 404


def test_api_duplicate__viewer_key__403_and_nothing_stored(viewer, original):
    response = viewer.post("/api/v1/experiments/pricing/duplicate", {}, format="json")
    assert response.status_code == 403
    assert Experiment.objects.count() == 1


def test_schema__duplicate__documents_optional_key_and_name(editor, db):
    schema = editor.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/experiments/{key}/duplicate"]["post"]
    assert {"201", "400", "404"} <= set(operation["responses"])
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"key", "name"}
    assert "required" not in body
