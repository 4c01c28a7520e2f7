"""The OpenAPI schema says what the API really takes and answers; the docs pages work offline."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest
import requests
from django.core.management import call_command
from rest_framework.test import APIClient

from assignment.services.assign_input import FIELDS as ASSIGN_FIELDS
from assignment.services.event_validation import REQUIRED_FIELDS as EVENT_REQUIRED_FIELDS
from core.api_keys import api_key_create

LIFECYCLE_ACTIONS = ("start", "pause", "resume", "stop", "archive")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def _request_body(schema: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    body = schema["paths"][path][method]["requestBody"]
    assert list(body["content"]) == ["application/json"]
    return _resolve(schema, body["content"]["application/json"]["schema"])


def _response(schema: dict[str, Any], path: str, method: str, code: str) -> dict[str, Any]:
    response = schema["paths"][path][method]["responses"][code]
    return _resolve(schema, response["content"]["application/json"]["schema"])


# Public: the client key is in the path (docs/sdk.md), no Authorization header.
PUBLIC_OPERATIONS = {("/api/v1/sdk/{client_key}/features", "get")}


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_schema__security_schemes__bearer_api_key_on_every_operation(schema):
    scheme = schema["components"]["securitySchemes"]["apiKeyAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = _operations(schema)
    assert len(operations) > 30
    for path, method, operation in operations:
        if (path, method) in PUBLIC_OPERATIONS:
            assert operation.get("security", [{}]) == [{}], (method, path)
            continue
        names = {name for entry in operation["security"] for name in entry}
        assert "apiKeyAuth" in names, (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_schema__conclude__documents_decision_winner_review_and_learnings(schema):
    body = _request_body(schema, "/api/v1/experiments/{key}/conclude")
    assert set(body["properties"]) == {"decision", "winner", "review", "learnings"}
    assert body["required"] == ["decision"]
    decision = _resolve(schema, body["properties"]["decision"])
    assert set(decision["enum"]) == {"ship", "keep_control", "inconclusive"}


def test_schema__other_lifecycle_actions__take_only_an_optional_reason(schema):
    for action in LIFECYCLE_ACTIONS:
        path = f"/api/v1/experiments/{{key}}/{action}"
        operation = schema["paths"][path]["post"]
        assert not operation["requestBody"].get("required", False), action
        assert set(_request_body(schema, path)["properties"]) == {"reason"}, action
        assert {"200", "400", "404", "409"} <= set(operation["responses"]), action


def test_schema__new_phase__documents_coverage_weights_salt_and_reason(schema):
    body = _request_body(schema, "/api/v1/experiments/{key}/new-phase")
    assert set(body["properties"]) == {"coverage", "weights", "salt", "reason"}
    assert body["properties"]["weights"]["additionalProperties"]["type"] == "number"


def test_schema__events__documents_the_batch_and_each_event(schema):
    body = _request_body(schema, "/api/v1/events")
    assert set(body["properties"]) == {"events", "sent_at"}
    assert body["required"] == ["events"]
    events = body["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, 1000)
    event = _resolve(schema, events["items"])
    assert set(event["properties"]) == {
        "event_id",
        "unit_id",
        "event",
        "timestamp",
        "value",
        "properties",
    }
    assert set(event["required"]) == set(EVENT_REQUIRED_FIELDS)
    assert event["properties"]["event"]["pattern"] == "^[a-z0-9_.:-]{1,64}$"
    assert event["properties"]["timestamp"]["format"] == "date-time"
    answer = _response(schema, "/api/v1/events", "post", "200")
    assert set(answer["properties"]) == {"accepted", "duplicates", "rejected"}
    assert {"400", "413"} <= set(schema["paths"]["/api/v1/events"]["post"]["responses"])


def test_schema__assign__documents_unit_id_attributes_experiments_and_track(schema):
    body = _request_body(schema, "/api/v1/assign")
    assert tuple(body["properties"]) == ASSIGN_FIELDS
    assert body["required"] == ["unit_id"]
    assert body["properties"]["experiments"]["maxItems"] == 100
    assert body["properties"]["track"]["default"] is True
    answer = _response(schema, "/api/v1/assign", "post", "200")
    assert set(answer["properties"]) == {"unit_id", "assignments"}
    one = schema["paths"]["/api/v1/assign/{experiment_key}"]["get"]
    assert {p["name"] for p in one["parameters"] if p["in"] == "query"} == {
        "unit_id",
        "track",
        "attributes",
    }
    assert {"200", "400", "404"} <= set(one["responses"])


def test_schema__bad_input__answers_the_field_messages_shape(schema):
    errors = schema["components"]["schemas"]["ValidationErrors"]
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    create = schema["paths"]["/api/v1/experiments"]["post"]["responses"]["400"]
    shapes = create["content"]["application/json"]["schema"]
    refs = {option["$ref"] for option in _resolve(schema, shapes)["oneOf"]}
    assert refs == {"#/components/schemas/ValidationErrors", "#/components/schemas/ErrorDetail"}
    conflict = schema["paths"]["/api/v1/experiments/{key}/pause"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationErrors"
    }


@pytest.mark.django_db
def test_schema__documented_answer__matches_a_real_validation_error(schema, editor):
    """A wrong body really answers the documented ``{"field": ["message"]}`` shape."""
    response = editor.post("/api/v1/experiments", {"key": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body.values()
    )
    assert "name" in body


def test_schema__experiment_output__nullable_fields_are_marked(schema):
    output = schema["components"]["schemas"]["ExperimentOutput"]["properties"]
    for field in ("started_at", "stopped_at", "owner", "layer", "conclusion"):
        assert output[field].get("nullable") is True, field
    plan = _resolve(schema, output["analysis_plan"])
    assert {"alpha", "method", "correction", "cuped", "mde"} <= set(plan["required"])
    assert plan["properties"]["mde"]["nullable"] is True


def test_spectacular_command__validate_fail_on_warn__passes(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_page__every_asset__served_by_this_server(live_server, page):
    response = requests.get(live_server.url + page, timeout=10)
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.text)
    assert any(url.endswith(".js") for url in parser.urls)
    own = urlparse(live_server.url).netloc
    for url in [*parser.urls, "/api/schema/"]:
        absolute = urljoin(live_server.url + page, url)
        assert urlparse(absolute).netloc == own, url
        assert requests.get(absolute, timeout=10).status_code == 200, url
    assert "googleapis" not in response.text
    assert "cdn.jsdelivr" not in response.text


def _launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


def _offline_page(browser: Any, outside: list[str]) -> Any:
    page = browser.new_page()

    def route(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("localhost", "127.0.0.1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return page


browser_test = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
    reason="needs Debian's chromium",
)


@pytest.mark.e2e
@browser_test
def test_swagger_ui__offline__lists_operations_and_authorize_sends_the_key(live_server):
    _, raw_key = api_key_create(name="docs", role="viewer")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = _offline_page(browser, outside)
            page.goto(live_server.url + "/api/docs/")
            page.wait_for_selector(".opblock", timeout=15_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert len(paths) > 30
            assert any(p.replace("\u200b", "") == "/api/v1/events" for p in paths)

            page.click("button.authorize")
            page.fill(".auth-container input", raw_key)
            page.click(".auth-btn-wrapper button.authorize")
            page.click("button.btn-done")

            listing = page.locator("#operations-v1-v1_experiments_list")
            listing.locator(".opblock-summary").click()
            listing.locator("button.try-out__btn").click()
            with page.expect_response(
                lambda r: urlparse(r.url).path == "/api/v1/experiments"
            ) as answer:
                listing.locator("button.execute").click()
            assert answer.value.status == 200
            assert answer.value.request.headers["authorization"] == f"Bearer {raw_key}"
        finally:
            browser.close()
    assert outside == []


@pytest.mark.e2e
@browser_test
def test_redoc__offline__renders_the_operations(live_server):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = _offline_page(browser, outside)
            page.goto(live_server.url + "/api/redoc/")
            page.locator("h2", has_text="events_ingest").wait_for(timeout=20_000)
            assert page.locator("h2", has_text="v1_experiments_conclude_create").count() == 1
        finally:
            browser.close()
    assert outside == []
