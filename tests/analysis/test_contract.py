"""The typed results contract: stored snapshots of every schema version load and serve, the
outcome is decided after the correction, one guardrail rule feeds health and decision, and
/api/schema/ documents every key the result endpoints return."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from analysis.engine import analyze
from analysis.engine.contract import (
    RESULTS_SCHEMA_VERSION,
    Plan,
    Results,
    SnapshotInputs,
    UnknownSchemaVersion,
    results_from_stored,
    results_upgrade,
)
from analysis.engine.results import results_compute
from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh, snapshot_recompute
from tests.analysis.helpers import experiment_with, metric
from tests.analysis.reference import conversion, plan, synthetic_inputs
from tests.analysis.test_snapshots import AS_OF, _populated
from tests.analysis.words import in_english

# A snapshot stored before results carried a schema version (inputs, plan and results as the
# database held them).
LEGACY = json.loads((Path(__file__).parent / "data" / "snapshot_v1.json").read_text())


def _legacy_snapshot(results: dict[str, Any] | None = None) -> ResultSnapshot:
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("arpu", "mean"), "secondary")],
        key=LEGACY["results"]["experiment"],
    )
    return ResultSnapshot.objects.create(
        experiment=exp,
        phase=1,
        status="ok",
        as_of=dt.datetime.fromisoformat(LEGACY["as_of"]),
        computed_at=dt.datetime.fromisoformat(LEGACY["computed_at"]),
        engine_version=LEGACY["engine_version"],
        plan=LEGACY["plan"],
        inputs=LEGACY["inputs"],
        results=LEGACY["results"] if results is None else results,
    )


def test_results_api__snapshot_stored_before_schema_versions__same_keys_and_values(
    viewer,
) -> None:
    snapshot = _legacy_snapshot()
    assert "schema_version" not in LEGACY["results"]
    response = viewer.get(f"/api/v1/experiments/{snapshot.experiment.key}/results")
    assert response.status_code == 200
    served = response.json()
    # Version 3 adds what decided each row and the SRM level; the stored values are kept.
    row = served["metrics"][0]["variants"][1]
    assert (row["test"], row["significance_basis"]) == ("welch", "relative")
    assert served["srm"]["level"] == "ok"
    for rows in [*served["metrics"], *served["segments"]]:
        for v in rows["variants"]:
            v.pop("test", None), v.pop("significance_basis", None)
    for srm in [served["srm"], *(s["srm"] for s in served["segments"])]:
        srm.pop("level")
    # Version 4 adds coded reasons and messages (none were recorded then: the English words
    # are shown) and each metric's value-range status (not recorded then: null).
    assert served["decision"].pop("reason_codes") == []
    for check in served["health"]:
        assert (check.pop("code"), check.pop("params")) == (None, {})
    for m in served["metrics"]:
        assert (m.pop("status"), m.pop("out_of_range_units")) == (None, None)
    assert served == {
        **LEGACY["results"],
        "schema_version": RESULTS_SCHEMA_VERSION,
        "snapshot_id": snapshot.id,
        "last_refresh": None,
        "client_exposure_rejections": {},
    }


def test_history_and_csv__snapshot_stored_before_schema_versions__served(viewer) -> None:
    snapshot = _legacy_snapshot()
    key = snapshot.experiment.key
    history = viewer.get(f"/api/v1/experiments/{key}/results/history").json()
    (entry,) = history["snapshots"]
    assert entry["decision"] == LEGACY["results"]["decision"]["recommendation"]
    assert entry["units"] == LEGACY["results"]["units"]["total"]
    legacy_b = LEGACY["results"]["metrics"][0]["variants"][1]
    assert entry["metrics"][0]["variants"][1]["p_value"] == pytest.approx(legacy_b["p_value"])
    rows = list(
        csv.DictReader(
            io.StringIO(viewer.get(f"/api/v1/experiments/{key}/results.csv").content.decode())
        )
    )
    assert len(rows) == sum(len(m["variants"]) for m in LEGACY["results"]["metrics"])
    assert float(rows[1]["effect"]) == pytest.approx(legacy_b["effect"])


def _shape(value: Any) -> Any:
    """Keys (recursively) without the numbers."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return [_shape(v) for v in value]
    return None  # numbers, strings, intervals


def test_recompute__snapshot_stored_before_schema_versions__same_shape_and_counts(
    db: None,
) -> None:
    # The engine may have changed since (relative intervals), so only what does not depend
    # on it is compared exactly: the shape, the counts, the means and absolute effects.
    snapshot = _legacy_snapshot()
    recomputed = snapshot_recompute(snapshot=snapshot)
    upgraded = results_upgrade(LEGACY["results"])
    assert recomputed["schema_version"] == upgraded["schema_version"] == RESULTS_SCHEMA_VERSION
    # Codes and their values exist only when computed (version 4 on); results stored without
    # them keep their English words (stored_reasons, stored_message); the rest is alike.
    assert upgraded["decision"].pop("stored_reasons") == LEGACY["results"]["decision"]["reasons"]
    for check, legacy in zip(upgraded["health"], LEGACY["results"]["health"], strict=True):
        assert check.pop("stored_message") == legacy["message"]
    for results in (recomputed, upgraded):
        results["decision"].pop("reason_codes")
        for check in results["health"]:
            check.pop("params")
    assert _shape(recomputed) == _shape(upgraded)
    for key in ("units", "srm", "events", "freshness", "plan", "as_of", "computed_at"):
        assert recomputed[key] == upgraded[key]
    for new, old in zip(recomputed["metrics"], upgraded["metrics"], strict=True):
        for a, b in zip(new["variants"], old["variants"], strict=True):
            assert (a["units"], a["mean"]) == (b["units"], pytest.approx(b["mean"]))
            assert a.get("absolute_effect") == pytest.approx(b.get("absolute_effect"))
            assert a.get("absolute_ci") == pytest.approx(b.get("absolute_ci"))


def test_results_from_stored__earliest_results_without_absolute_effects_or_total__read(
    viewer,
) -> None:
    earliest = copy.deepcopy(LEGACY["results"])
    for m in earliest["metrics"]:
        for row in m["variants"]:
            row.pop("absolute_effect", None)
            row.pop("absolute_ci", None)
    earliest["units"]["excluded"] = {"forced": 2, "multiple_variants": 3}
    snapshot = _legacy_snapshot(earliest)
    typed = results_from_stored(snapshot.results)
    assert typed.units.excluded.total == 5
    assert typed.metrics[0].variants[1].absolute_effect is None
    body = viewer.get(f"/api/v1/experiments/{snapshot.experiment.key}/results").json()
    assert body["units"]["excluded"] == {"forced": 2, "multiple_variants": 3, "total": 5}
    assert body["metrics"][0]["variants"][1]["absolute_ci"] is None
    assert body["metrics"][0]["variants"][1]["effect"] == pytest.approx(
        LEGACY["results"]["metrics"][0]["variants"][1]["effect"]
    )


def test_results_from_stored__newer_schema_version__refused_naming_the_version() -> None:
    newer = {**LEGACY["results"], "schema_version": RESULTS_SCHEMA_VERSION + 1}
    with pytest.raises(UnknownSchemaVersion, match=f"version {RESULTS_SCHEMA_VERSION + 1}"):
        results_from_stored(newer)


def test_typed_results__fresh_snapshot__stored_with_version_and_round_trip_exactly(
    db: None,
) -> None:
    snapshot = experiment_refresh(experiment=_populated(), as_of=AS_OF)
    stored = ResultSnapshot.objects.get(pk=snapshot.pk).results
    assert stored["schema_version"] == RESULTS_SCHEMA_VERSION
    typed = Results.from_dict(stored)
    assert typed.to_dict() == stored
    rebuilt = analyze(
        SnapshotInputs.from_dict(snapshot.inputs),
        Plan.from_dict(snapshot.plan),
        computed_at=stored["computed_at"],
        engine_version=stored["engine_version"],
    )
    assert rebuilt == typed


def _three_arms(
    b_conversions: int, c_conversions: int = 1_000, *, correction: str, guard=None
) -> dict[str, Any]:
    control, b, c = (10_000, 1_000), (10_000, b_conversions), (10_000, c_conversions)
    metrics = [{"metric": "conv", "stats": conversion(control, b, c)}]
    if guard is not None:
        metrics.append(
            {"metric": "refunds", "role": "guardrail", "higher_is_better": False, "stats": guard}
        )
    inputs = synthetic_inputs(metrics, variants=("control", "b", "c"))
    return results_compute(
        inputs=inputs, plan=plan(correction=correction), computed_at="x", engine_version="t"
    )


def test_outcome__significant_only_before_holm_correction__not_significant_and_no_ship() -> None:
    # b converts 10.9% vs 10.0%: p ≈ 0.046 alone, ≈ 0.093 after Holm over b and c.
    uncorrected = _three_arms(1_090, correction="none")
    b = uncorrected["metrics"][0]["variants"][1]
    assert (b["significant"], b["outcome"]) == (True, "better")
    assert uncorrected["decision"]["recommendation"] == "ship"

    corrected = _three_arms(1_090, correction="holm")
    b = corrected["metrics"][0]["variants"][1]
    assert b["p_value_unadjusted"] < 0.05 < b["p_value"]
    assert (b["significant"], b["outcome"]) == (False, "not_significant")
    assert corrected["decision"]["recommendation"] == "keep_running"


def test_guardrail_worse__top_winner_hurts_a_guardrail__health_error_and_next_shipped() -> None:
    # b lifts conversion most (13% vs 10%) but refunds rise for b; c lifts it to 12%.
    refunds = conversion((10_000, 1_000), (10_000, 1_300), (10_000, 1_010))
    r = _three_arms(1_300, 1_200, correction="none", guard=refunds)
    guards = [h for h in r["health"] if h["check"] == "guardrail_worse"]
    assert [h["condition"] for h in guards] == ["guardrail_worse:refunds:b"]
    assert (r["decision"]["recommendation"], r["decision"]["variant"]) == ("ship", "c")
    assert "No guardrail is significantly worse for c." in in_english(r)["decision"]["reasons"]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node or "allOf" in node:
        if "allOf" in node:
            node = node["allOf"][0]
        ref = node.get("$ref")
        if ref:
            node = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return node


def _undocumented(schema: dict[str, Any], node: dict[str, Any], value: Any, path: str) -> list:
    node = _resolve(schema, node)
    missing = []
    if isinstance(value, dict):
        props = node.get("properties")
        if props is None:
            extra = node.get("additionalProperties")
            assert extra, f"{path} is an object without documented keys"
            for k, v in value.items():
                if isinstance(extra, dict):
                    missing += _undocumented(schema, extra, v, f"{path}.{k}")
            return missing
        for k, v in value.items():
            if k not in props:
                missing.append(f"{path}.{k}")
            else:
                missing += _undocumented(schema, props[k], v, f"{path}.{k}")
    elif isinstance(value, list) and value and "items" in node:
        for i, v in enumerate(value):
            missing += _undocumented(schema, node["items"], v, f"{path}[{i}]")
    return missing


def test_schema__result_endpoints__document_every_key_they_return(viewer) -> None:
    snapshot = experiment_refresh(experiment=_populated(), as_of=AS_OF)
    key = snapshot.experiment.key
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    def ok_schema(path: str, method: str, code: str) -> dict[str, Any]:
        return paths[path][method]["responses"][code]["content"]["application/json"]["schema"]

    results = viewer.get(f"/api/v1/experiments/{key}/results").json()
    history = viewer.get(f"/api/v1/experiments/{key}/results/history").json()
    assert results["segments"] and results["metrics"][2]["variants"][0]["immature_units"] >= 0
    base = "/api/v1/experiments/{key}/results"
    assert _undocumented(schema, ok_schema(base, "get", "200"), results, "results") == []
    assert (
        _undocumented(schema, ok_schema(f"{base}/history", "get", "200"), history, "history") == []
    )
    variant = _resolve(
        schema,
        _resolve(schema, _resolve(schema, ok_schema(base, "get", "200"))["properties"]["metrics"])[
            "items"
        ],
    )["properties"]["variants"]["items"]
    outcome = _resolve(schema, _resolve(schema, variant)["properties"]["outcome"])
    assert set(outcome["enum"]) == {"better", "worse", "not_significant", "not_enough_data"}
    refresh = ok_schema(f"{base}/refresh", "post", "202")
    assert set(_resolve(schema, refresh)["properties"]) == {"experiment", "status"}
