"""Fuzzing the API with schemathesis against a real server on loopback.

A gunicorn server (test settings, a fresh SQLite file, an admin API key) is started once for
the module; each test runs ``st run`` against ``/api/schema/`` with bounded examples and a time
limit. No generated request, valid or not, may get a 5xx; responses must match the schema; and
requests that break the schema must get a 4xx.

Every operation is checked in every run, except two by design: key revocation (the fuzzer
would revoke its own key) in all runs, and the event and exposure batches in the negative run
(a schema-breaking item is refused with a per-item reason in a 200 answer, as their schema
says). The findings of the first runs, each fixed, are reproduced in ``test_api_contract.py``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = int(os.environ.get("VERDICT_FUZZ_MAX_EXAMPLES", "8"))
MAX_SECONDS = int(os.environ.get("VERDICT_FUZZ_SECONDS", "45"))

# About 45 s a run: with the long studies, in CI (VERDICT_FULL_SUITE=1) and with -m slow.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ST.exists(), reason="schemathesis is not installed"),
]

# Left out of every run: revoking would revoke the fuzzer's own key (it has a small id) and
# answer 401 to everything after it; key management has its own tests.
ALWAYS_EXCLUDED = {"POST /api/v1/api-keys/{key_id}/revoke": "revokes the fuzzing key"}

# By design, left out of the negative run: a batch answers 200 and names each refused item
# with its reason (docs/events.md), so a schema-breaking item is not a 4xx for the request.
BATCHES = {
    "POST /api/v1/events": "per-item reasons in a 200 answer (docs/events.md)",
    "POST /api/v1/exposures": "per-item reasons in a 200 answer, like events (docs/sdk.md)",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"sqlite:///{database}",
            "PYTHONPATH": str(ROOT),
            # The rate limits are tested on their own; here they would answer most fuzzed
            # requests 429 (each refused credential counts) and hide everything else.
            "VERDICT_AUTH_FAILURE_RATE": "",
            "VERDICT_RUNTIME_KEY_RATE": "",
        }
    )
    env.pop("CACHE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, admin API key) of a gunicorn server on loopback with a fresh database."""
    folder = tmp_path_factory.mktemp("fuzz")
    env = _env(folder / "fuzz.sqlite3")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    created = subprocess.run(
        [*manage, "create_api_key", "fuzz", "--role", "admin"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    log = (folder / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
            # Long fuzzed paths reach Django (gunicorn's own limit answers a bare 414).
            *("--limit-request-line", "0"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"gunicorn did not start: {(folder / 'gunicorn.log').read_text()}")
                time.sleep(0.3)
        # The first schema is generated on demand; later runs read it again.
        urllib.request.urlopen(f"{base}/api/schema/", timeout=60).read()  # noqa: S310
        yield base, key
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _run(server: tuple[str, str], checks: str, *, exclude: dict[str, str], mode: str = "all"):
    base, key = server
    args = [
        str(ST),
        "run",
        f"{base}/api/schema/",
        *("-H", f"Authorization: Bearer {key}"),
        *("--checks", checks),
        *("--mode", mode),
        *("--max-examples", str(MAX_EXAMPLES)),
        *("--max-time", str(MAX_SECONDS)),
        # One worker: hypothesis' lambda descriptions are not thread-safe under Python 3.11
        # (schemathesis then reports its own runtime errors).
        *("--workers", "1", "--seed", "15", "--no-color", "--no-shrink"),
        *("--phases", "examples,coverage,fuzzing"),
        # A refresh runs inside its request here (no broker): on a loaded CI machine that
        # can take longer than a usual request.
        *("--generation-database", "none", "--request-timeout", "60"),
        # Path keys are slugs: negative mode filters many drawn values, and a loaded CI machine
        # is slow; neither is a finding about the API.
        *("--suppress-health-check", "filter_too_much,too_slow"),
        *[arg for name in {**ALWAYS_EXCLUDED, **exclude} for arg in ("--exclude-name", name)],
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=MAX_SECONDS + 120)
    output = done.stdout + done.stderr
    print(f"{checks} ({mode}): {_generated(output)}")
    return done.returncode, output


def _generated(output: str) -> str:
    """schemathesis' count of generated test cases (printed, for the CI log and the docs)."""
    summary = output[output.rfind("Test cases:") :].splitlines()
    return summary[1].strip() if len(summary) > 1 else "no summary"


def _failures(output: str) -> str:
    """The failure sections of schemathesis' report (what to read when a test fails)."""
    start = output.find("FAILURES")
    return output[start if start >= 0 else -4000 :][:12000]


_FAILURE = re.compile(
    r"_{3,} (GET|POST|PUT|PATCH|DELETE) (\S+) _{3,}\n(.*?)"
    r"(?=_{3,} (?:GET|POST|PUT|PATCH|DELETE) |={3,})",
    re.S,
)
_MISSING = re.compile(r"Missing required property: (\w+)")


def _false_required_claims(output: str, schema: dict[str, Any]) -> bool:
    """Whether every failure reported is schemathesis saying a request "missing required
    property X" was wrongly accepted where the operation's own request schema does not
    require X (its coverage phase sometimes applies the POST body's required list to the
    PATCH of the same resource): a fault of the tool, checked here against the schema."""
    blocks = _FAILURE.findall(output[output.find("FAILURES") :])
    if not blocks:
        return False
    for method, path, text in blocks:
        missing = _MISSING.search(text)
        if "ST201" not in text or missing is None or path not in schema["paths"]:
            return False
        operation = schema["paths"][path].get(method.lower(), {})
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        body = body.get("schema", {})
        if "$ref" in body:
            body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        if missing.group(1) in body.get("required", []):
            return False
    return True


def _passed_but_for_ungeneratable(
    code: int, output: str, schema: dict[str, Any] | None = None
) -> bool:
    """Whether the run found nothing, apart from operations for which schemathesis could not
    draw invalid data at all (a slug path key and no body): not a finding about the API; with
    ``schema``, also apart from the tool's false "required property" claims (see above)."""
    if code == 0:
        return True
    summary = output[output.rfind("SUMMARY") :]
    errors = output.count("Cannot generate test data for this operation")
    found_nothing = "Failures:" not in summary or (
        schema is not None and _false_required_claims(output, schema)
    )
    return found_nothing and "Runtime Error" not in summary and f"Schema Error: {errors}" in summary


def test_fuzz__any_generated_request__never_a_server_error(server):
    code, output = _run(server, "not_a_server_error", exclude={})

    assert "Server error" not in output, _failures(output)
    assert code == 0, _failures(output)


def test_fuzz__requests_breaking_the_schema__answered_4xx(server):
    code, output = _run(
        server,
        "not_a_server_error,negative_data_rejection",
        exclude=BATCHES,
        mode="negative",
    )

    schema = json.loads(urllib.request.urlopen(f"{server[0]}/api/schema/?format=json").read())  # noqa: S310
    assert _passed_but_for_ungeneratable(code, output, schema), _failures(output)


def test_fuzz__responses__match_the_schema(server):
    code, output = _run(
        server,
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        exclude={},
    )

    assert code == 0, _failures(output)


_TOOL_REPORT = """=================================== FAILURES ===================================
__________________________ PATCH /api/v1/layers/{key} __________________________
1. Test Case ID: evdfZC

- ST201 Schema-violating request accepted

    Invalid data should have been rejected
    Invalid component: Missing required property: name

=================================== SUMMARY ====================================
"""
_SCHEMA = {
    "paths": {
        "/api/v1/layers/{key}": {
            "patch": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/PatchedLayerInput"}
                        }
                    }
                }
            }
        }
    },
    "components": {"schemas": {"PatchedLayerInput": {"type": "object", "properties": {}}}},
}


def test_false_required_claims__only_where_the_schema_does_not_require_it() -> None:
    assert _false_required_claims(_TOOL_REPORT, _SCHEMA)
    required = json.loads(json.dumps(_SCHEMA))
    required["components"]["schemas"]["PatchedLayerInput"]["required"] = ["name"]
    assert not _false_required_claims(_TOOL_REPORT, required)
    other = _TOOL_REPORT.replace("ST201 Schema-violating request accepted", "ST103 Undocumented")
    assert not _false_required_claims(other, _SCHEMA)
