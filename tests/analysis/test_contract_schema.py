"""One contract: the stored JSON, the API's JSON and the OpenAPI components come from the
same classes (``analysis.engine.contract``, ``analysis.api.serializers``)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from analysis.api.serializers import (
    DecisionInWords,
    HealthCheckInWords,
    HistoryMetric,
    HistorySnapshot,
    HistorySrm,
    HistoryVariant,
    LastRefresh,
    RefreshQueued,
    ResultsHistory,
    ResultsResponse,
)
from analysis.engine.contract import (
    Coded,
    Excluded,
    Freshness,
    MetricInputs,
    MetricResult,
    Plan,
    PointResult,
    PowerResult,
    Results,
    SegmentResult,
    SnapshotInputs,
    SrmResult,
    UnitsResult,
    VariantResult,
)
from analysis.engine.contract.breaker import BreakerResult, BreakerRow
from analysis.engine.contract.model import Contract
from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from tests.analysis.test_snapshots import AS_OF, _populated

# Every component of the result endpoints and the class it is generated from.
COMPONENTS: dict[str, type[Contract]] = {
    "ResultsResponse": ResultsResponse,
    "Plan": Plan,
    "Units": UnitsResult,
    "Excluded": Excluded,
    "Freshness": Freshness,
    "SrmResult": SrmResult,
    "PowerResult": PowerResult,
    "MetricResult": MetricResult,
    "VariantResult": VariantResult,
    "PointResult": PointResult,
    "SegmentResult": SegmentResult,
    "Decision": DecisionInWords,
    "Coded": Coded,
    "HealthCheck": HealthCheckInWords,
    "Breaker": BreakerResult,
    "BreakerRow": BreakerRow,
    "LastRefresh": LastRefresh,
    "ResultsHistory": ResultsHistory,
    "HistorySnapshot": HistorySnapshot,
    "HistorySrm": HistorySrm,
    "HistoryMetric": HistoryMetric,
    "HistoryVariant": HistoryVariant,
    "RefreshQueued": RefreshQueued,
}


def _json_keys(cls: type[Contract]) -> list[str]:
    """The keys the class writes: its fields not excluded from the JSON, and its computed
    keys, in the JSON's order."""
    fields = [name for name, info in cls.__pydantic_fields__.items() if not info.exclude]  # type: ignore[attr-defined]
    computed = list(cls.__pydantic_decorators__.computed_fields)  # type: ignore[attr-defined]
    keys = fields + computed
    order = [k for k in cls.KEY_ORDER if k in keys]
    return order + [k for k in keys if k not in order]


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


@pytest.fixture
def snapshot(db: None) -> ResultSnapshot:
    made = experiment_refresh(experiment=_populated(), as_of=AS_OF)
    return ResultSnapshot.objects.get(pk=made.pk)


@pytest.mark.parametrize("name", COMPONENTS)
def test_openapi_component__properties_and_required__the_class_fields(components, name) -> None:
    cls = COMPONENTS[name]
    component = components[name]
    assert list(component["properties"]) == _json_keys(cls)
    written_always = set(_json_keys(cls)) - set(cls.OPTIONAL_KEYS)
    assert set(component.get("required", [])) == written_always


def test_openapi_components__results_served__every_contract_class_listed(components) -> None:
    refs = json.dumps(components["ResultsResponse"]) + "".join(
        json.dumps(components[name]) for name in COMPONENTS
    )
    named = {ref.split('"')[0] for ref in refs.split("#/components/schemas/")[1:]}
    assert {n for n in named if not n.endswith("Enum")} <= set(COMPONENTS)


def _closed(node: Any) -> Any:
    """A JSON Schema in which an object may have only the keys its class defines."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def test_stored_json__real_snapshot__valid_under_the_classes_schemas(snapshot) -> None:
    results, inputs = snapshot.results, snapshot.inputs
    jsonschema.Draft202012Validator(_closed(Results.json_schema())).validate(results)
    jsonschema.Draft202012Validator(_closed(SnapshotInputs.json_schema())).validate(inputs)
    # Read back from the database and written again: the same JSON.
    assert Results.from_dict(results).to_dict() == results
    assert SnapshotInputs.from_dict(inputs).to_dict() == inputs


def test_stored_json__as_written__read_and_written_again_byte_for_byte(db: None) -> None:
    # As the refresh wrote it, before the database (PostgreSQL's jsonb orders keys its way).
    made = experiment_refresh(experiment=_populated(), as_of=AS_OF)
    assert json.dumps(Results.from_dict(made.results).to_dict()) == json.dumps(made.results)
    assert json.dumps(SnapshotInputs.from_dict(made.inputs).to_dict()) == json.dumps(made.inputs)


def test_stored_json__key_outside_the_definitions__refused_by_the_schema(snapshot) -> None:
    results = json.loads(json.dumps(snapshot.results))
    results["metrics"][0]["variants"][1]["lift"] = 0.1
    with pytest.raises(jsonschema.ValidationError, match="lift"):
        jsonschema.Draft202012Validator(_closed(Results.json_schema())).validate(results)


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (``nullable`` as a null alternative)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k not in ("nullable", "readOnly")}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _validate(body: Any, component: str, components: dict[str, Any]) -> None:
    document = {
        "$ref": f"#/components/schemas/{component}",
        "components": {"schemas": _closed(_json_schema(components))},
    }
    jsonschema.Draft7Validator(document).validate(body)


def test_served_json__result_endpoints__valid_under_the_openapi_components(
    snapshot, viewer, components
) -> None:
    base = f"/api/v1/experiments/{snapshot.experiment.key}/results"
    body = viewer.get(base).json()
    _validate(body, "ResultsResponse", components)
    _validate(viewer.get(f"{base}/history").json(), "ResultsHistory", components)
    # The served results are the stored ones, with the words beside the codes.
    stored = Results.from_dict(snapshot.results).to_dict()
    assert body["metrics"] == stored["metrics"] and body["plan"] == stored["plan"]
    assert body["decision"]["reason_codes"] == stored["decision"]["reason_codes"]
    assert len(body["decision"]["reasons"]) == len(stored["decision"]["reason_codes"])


def test_metric_inputs__out_of_range_keys__written_only_when_out_of_range() -> None:
    ok = MetricInputs.from_dict(
        {"metric": "m", "type": "mean", "role": "primary", "stats": {}, "status": None}
    )
    assert (ok.status, ok.out_of_range_units) == ("ok", 0)
    assert "status" not in ok.to_dict() and "out_of_range_units" not in ok.to_dict()
    out = MetricInputs.from_dict({**ok.to_dict(), "status": "values_out_of_range"})
    assert out.to_dict()["status"] == "values_out_of_range"


def test_numbers__nan_and_infinity__written_as_null() -> None:
    row = VariantResult(
        variant="b",
        name="B",
        is_control=False,
        units=10,
        mean=float("nan"),
        ci=(0.1, float("inf")),
        effect=float("-inf"),
    )
    data = row.to_dict()
    assert (data["mean"], data["ci"], data["effect"]) == (None, None, None)
    assert "NaN" not in json.dumps(data) and "Infinity" not in json.dumps(data)


def test_control_row__comparison_keys__left_out() -> None:
    control = VariantResult(variant="a", name="A", is_control=True, units=10, mean=0.1)
    assert list(control.to_dict()) == ["variant", "name", "is_control", "units", "mean"]
    retention = VariantResult.from_dict({**control.to_dict(), "immature_units": 3})
    assert retention.to_dict()["immature_units"] == 3
