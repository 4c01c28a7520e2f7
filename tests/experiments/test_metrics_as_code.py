"""Metrics as code: `manage.py metrics export` and `metrics apply <file> [--dry-run]`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from experiments.api.serializers import MetricInput
from experiments.models import AuditLogEntry, Metric
from experiments.services.metrics import FIELDS as METRIC_FIELDS
from tests.factories import MetricFactory, started_experiment

DEFINITIONS: list[dict[str, Any]] = [
    {"key": "paid-conversion", "name": "付费转化", "type": "conversion", "event": "purchase"},
    {
        "key": "arpu",
        "name": "ARPU",
        "description": "Revenue per exposed user.",
        "type": "mean",
        "event": "purchase",
        "value_field": "revenue",
        "winsorize_percentile": 99,
        "display_format": "currency",
        "currency": "cny",
    },
    {
        "key": "aov",
        "name": "AOV",
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
        "higher_is_better": True,
    },
    {
        "key": "d7",
        "name": "D7 retention",
        "type": "retention",
        "event": "app_open",
        "retention_day": 7,
        "window_hours": 24 * 30,
    },
]


def _library(editor: Any) -> None:
    for body in DEFINITIONS:
        response = editor.post("/api/v1/metrics", body, format="json")
        assert response.status_code == 201, response.json()


def _export() -> str:
    out = StringIO()
    call_command("metrics", "export", stdout=out)
    return out.getvalue()


def _apply(path: Path, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("metrics", "apply", str(path), *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _refused(path: Path, *extra: str) -> tuple[str, str]:
    """The error and the stderr of an apply that fails."""
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("metrics", "apply", str(path), *extra, stdout=StringIO(), stderr=err)
    assert failed.value.returncode != 0  # the exit status from the command line
    return str(failed.value), err.getvalue()


def _stored() -> list[tuple[Any, ...]]:
    return list(Metric.objects.order_by("key").values_list())


def _edited(text: str, change: Any) -> str:
    document = yaml.safe_load(text)
    change(document["metrics"])
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@pytest.mark.django_db
def test_metrics_export__every_metric__every_field_in_a_stable_order(editor) -> None:
    _library(editor)
    text = _export()
    document = yaml.safe_load(text)
    assert list(document["metrics"]) == ["aov", "arpu", "d7", "paid-conversion"]
    fields = list(document["metrics"]["arpu"])
    assert set(fields) == {name for name in MetricInput().fields if name != "key"}
    assert fields == list(METRIC_FIELDS)  # the services' order
    assert document["metrics"]["arpu"]["currency"] == "CNY"
    assert document["metrics"]["aov"]["denominator"] == {"event": "purchase", "value_field": None}
    assert "name: 付费转化" in text
    assert _export() == text


@pytest.mark.django_db
def test_metrics_apply__an_export__changes_nothing_and_says_so(editor, tmp_path) -> None:
    _library(editor)
    path = tmp_path / "metrics.yaml"
    path.write_text(_export(), encoding="utf-8")
    before, entries = _stored(), AuditLogEntry.objects.count()

    out, err = _apply(path)

    assert "No changes" in out
    assert "0 created, 0 changed, 4 unchanged" in out
    assert err == ""
    assert _stored() == before
    assert AuditLogEntry.objects.count() == entries
    assert _export() == path.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_metrics_apply__a_change_and_a_new_metric__diff_stored_and_audited(
    editor, tmp_path
) -> None:
    _library(editor)
    MetricFactory(key="legacy")
    get_user_model().objects.create_user(username="ana")

    def change(metrics: dict[str, Any]) -> None:
        metrics["d7"]["window_hours"] = 72
        metrics["d7"]["name"] = "Day-7 retention"
        metrics["signup"] = {"name": "Signup", "type": "conversion", "event": "signup"}
        del metrics["legacy"]

    path = tmp_path / "metrics.yaml"
    path.write_text(_edited(_export(), change), encoding="utf-8")

    out, _ = _apply(path, "--as", "ana")

    assert 'd7: changed\n  name: "D7 retention" → "Day-7 retention"\n' in out
    assert "  window_hours: 720 → 72\n" in out
    assert "signup: created\n" in out
    assert '  event: "signup"' in out
    assert "arpu: unchanged" in out
    assert "Left alone (not in the file): legacy." in out
    assert "Applied: 1 created, 1 changed, 3 unchanged." in out
    assert Metric.objects.get(key="d7").window_hours == 72
    assert Metric.objects.filter(key="legacy").exists()
    update = AuditLogEntry.objects.get(object_key="d7", action="update")
    assert (update.before["window_hours"], update.after["window_hours"]) == (720, 72)
    assert update.actor_label == "ana"
    assert update.actor.username == "ana"
    created = AuditLogEntry.objects.get(object_key="signup", action="create")
    assert created.actor_label == "ana"


@pytest.mark.django_db
def test_metrics_apply__without_as__audited_as_metrics_apply(editor, tmp_path) -> None:
    _library(editor)
    path = tmp_path / "metrics.yaml"
    path.write_text(
        _edited(_export(), lambda m: m["arpu"].update(winsorize_percentile=95)), encoding="utf-8"
    )
    out, _ = _apply(path)
    assert "  winsorize_percentile: 99.0 → 95.0" in out
    entry = AuditLogEntry.objects.get(object_key="arpu", action="update")
    assert (entry.actor_label, entry.actor) == ("metrics apply", None)


@pytest.mark.django_db
def test_metrics_apply__unknown_user__refused_and_nothing_stored(editor, tmp_path) -> None:
    _library(editor)
    path = tmp_path / "metrics.yaml"
    path.write_text(_edited(_export(), lambda m: m["d7"].update(window_hours=1)), "utf-8")
    message, _ = _refused(path, "--as", "nobody")
    assert 'no active user "nobody"' in message
    assert Metric.objects.get(key="d7").window_hours == 720


@pytest.mark.django_db
def test_metrics_apply__dry_run__shows_the_diff_and_stores_nothing(editor, tmp_path) -> None:
    _library(editor)

    def change(metrics: dict[str, Any]) -> None:
        metrics["d7"]["retention_day"] = 14
        metrics["new-one"] = {"name": "New", "type": "conversion", "event": "signup"}

    path = tmp_path / "metrics.yaml"
    path.write_text(_edited(_export(), change), encoding="utf-8")
    before, entries = _stored(), AuditLogEntry.objects.count()

    out, _ = _apply(path, "--dry-run")

    assert "  retention_day: 7 → 14" in out
    assert "new-one: created" in out
    assert "Dry run, nothing stored: 1 created, 1 changed, 3 unchanged." in out
    assert _stored() == before
    assert AuditLogEntry.objects.count() == entries


@pytest.mark.django_db
def test_metrics_apply__metric_of_a_running_experiment__refused_like_the_api(
    editor, tmp_path
) -> None:
    started_experiment(key="pricing")  # uses the metric "conversion"
    api = editor.patch("/api/v1/metrics/conversion", {"event": "checkout"}, format="json")
    assert api.status_code == 400
    api_message = api.json()["event"][0]
    assert "pricing" in api_message

    path = tmp_path / "metrics.yaml"
    path.write_text(
        _edited(_export(), lambda m: m["conversion"].update(event="checkout")), encoding="utf-8"
    )
    message, err = _refused(path)

    assert f'metric "conversion", field "event": {api_message}' in err
    assert "nothing stored" in message
    assert Metric.objects.get(key="conversion").event == "purchase"
    assert not AuditLogEntry.objects.filter(object_type="metric").exists()


@pytest.mark.django_db
def test_metrics_apply__running_experiment_metric_renamed__allowed(editor, tmp_path) -> None:
    started_experiment(key="pricing")
    path = tmp_path / "metrics.yaml"
    path.write_text(
        _edited(_export(), lambda m: m["conversion"].update(name="Paid conversion")), "utf-8"
    )
    out, _ = _apply(path)
    assert "Applied: 0 created, 1 changed, 0 unchanged." in out
    assert Metric.objects.get(key="conversion").name == "Paid conversion"


@pytest.mark.django_db
def test_metric_update_api__analysis_field_of_a_paused_experiment_metric__400(editor) -> None:
    started_experiment(key="pricing")
    assert editor.post("/api/v1/experiments/pricing/pause", {}, format="json").status_code == 200
    response = editor.patch("/api/v1/metrics/conversion", {"window_hours": 24}, format="json")
    assert response.status_code == 400
    assert "create a new metric" in response.json()["window_hours"][0]
    assert (
        editor.patch(
            "/api/v1/metrics/conversion", {"description": "Paid."}, format="json"
        ).status_code
        == 200
    )


@pytest.mark.django_db
def test_metrics_apply__one_bad_metric__nothing_stored_and_each_problem_named(
    editor, tmp_path
) -> None:
    _library(editor)

    def change(metrics: dict[str, Any]) -> None:
        metrics["d7"]["window_hours"] = 48  # a good change
        metrics["arpu"]["value_field"] = ""  # a mean needs its value field
        metrics["new-one"] = {"name": "New", "type": "ratio", "numerator": {"event": "Bad Name"}}

    path = tmp_path / "metrics.yaml"
    path.write_text(_edited(_export(), change), encoding="utf-8")
    before, entries = _stored(), AuditLogEntry.objects.count()

    message, err = _refused(path)

    assert 'metric "arpu", field "value_field":' in err
    assert 'metric "new-one", field "numerator.event":' in err
    assert 'metric "new-one", field "denominator":' in err
    assert "in 2 metric(s): nothing stored" in message
    assert _stored() == before
    assert AuditLogEntry.objects.count() == entries
    assert not Metric.objects.filter(key="new-one").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics:\n  d7: [unclosed\n", "is not valid YAML"),
        ("metrics:\n  d7:\n    name: a\n   bad: indent\n", "is not valid YAML"),
        ("- d7\n- arpu\n", 'expected a mapping with a "metrics" key (metric key -> fields), '),
        ("just text\n", "found a text"),
        ("", "found nothing"),
        ("d7:\n  name: D7\n", 'expected a mapping with a "metrics" key'),
        ("metrics: {}\nversion: 2\n", "unknown top-level keys: version"),
        ("metrics:\n  - d7\n", '"metrics" must map each metric key to its fields, found a list'),
        (
            "metrics:\n  d7:\n    name: D7\n  d7:\n    name: Again\n",
            "the key 'd7' is written twice",
        ),
    ],
)
def test_metrics_apply__not_a_metrics_document__clear_error_and_nothing_stored(
    editor, tmp_path, text, expected
) -> None:
    _library(editor)
    path = tmp_path / "metrics.yaml"
    path.write_text(text, encoding="utf-8")
    before = _stored()
    message, _ = _refused(path)
    assert expected in message
    assert str(path) in message
    assert _stored() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "key", "field", "expected"),
    [
        (lambda m: m["d7"].update(colour="blue"), "d7", "colour", "Unknown field"),
        (lambda m: m["d7"].update(key="d7"), "d7", "key", "Unknown field"),
        (lambda m: m["d7"].update(window_hours="a week"), "d7", "window_hours", "whole number"),
        (lambda m: m["d7"].update(higher_is_better="yes please"), "d7", "higher_is_better", ""),
        (lambda m: m["arpu"].update(name=["A", "B"]), "arpu", "name", ""),
        (lambda m: m["aov"].update(numerator="purchase"), "aov", "numerator", ""),
        (lambda m: m["d7"].update(type="funnel-of-doom"), "d7", "type", "valid choice"),
        (lambda m: m.update({"d8": "retention"}), "d8", "definition", "Expected a mapping"),
        (
            lambda m: m.update({"Bad Key": {"name": "x", "type": "conversion"}}),
            "Bad Key",
            "key",
            "",
        ),
        (lambda m: m["d7"].pop("name"), "d7", "name", "required"),
    ],
)
def test_metrics_apply__bad_field__names_metric_and_field_and_stores_nothing(
    editor, tmp_path, change, key, field, expected
) -> None:
    _library(editor)

    def edit(metrics: dict[str, Any]) -> None:
        metrics["arpu"]["window_hours"] = 24  # a good change, not stored either
        change(metrics)

    path = tmp_path / "metrics.yaml"
    path.write_text(_edited(_export(), edit), encoding="utf-8")
    before, entries = _stored(), AuditLogEntry.objects.count()

    message, err = _refused(path)

    where = "definition" if field == "definition" else f'field "{field}"'
    line = next(line for line in err.splitlines() if line.startswith(f'metric "{key}", {where}:'))
    assert expected in line
    assert "nothing stored" in message
    assert _stored() == before
    assert AuditLogEntry.objects.count() == entries


@pytest.mark.django_db
def test_metrics_apply__missing_file__clear_error(tmp_path) -> None:
    message, _ = _refused(tmp_path / "nowhere.yaml")
    assert "Cannot read" in message and "nowhere.yaml" in message


@pytest.mark.django_db
def test_metrics_apply__not_utf8__clear_error(tmp_path) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_bytes(b"metrics:\n  d7:\n    name: \xff\xfe\n")
    message, _ = _refused(path)
    assert "Cannot read" in message


@pytest.mark.django_db
def test_metrics_apply__the_docs_example__creates_both_metrics(tmp_path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text("utf-8")
    section = docs[docs.index("## Metrics as code") :]
    example = section[section.index("```yaml\n") + len("```yaml\n") :]
    path = tmp_path / "metrics.yaml"
    path.write_text(example[: example.index("```")], encoding="utf-8")

    out, _ = _apply(path)

    assert "Applied: 2 created, 0 changed, 0 unchanged." in out
    assert Metric.objects.get(key="paid-conversion").window_hours == 72
    assert Metric.objects.get(key="aov").currency == "CNY"
