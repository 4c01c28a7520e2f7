"""GrowthBook's JavaScript SDK (npm ``@growthbook/growthbook``) in Node.js, evaluating Verdict's
payload locally and forwarding its tracking calls to ``POST /api/v1/exposures``.

The SDK is installed from the npm registry with the lock file in ``tests/sdk/js`` (``npm ci``,
run by ``.ci/run`` and by this test when ``node_modules`` is missing). The test is skipped only
when Node.js itself is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assignment.models import Exposure

from .conftest import Verdict
from .scenario import FORCED, KEYS

pytestmark = pytest.mark.slow
JS = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def node() -> str:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are not installed")
    if not (JS / "node_modules" / "@growthbook" / "growthbook").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True
        )
    return node


def _run(node: str, job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [node, "evaluate.mjs"],
        cwd=JS,
        input=json.dumps(job).encode(),
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_js_sdk__10000_units__same_variant_as_assign_and_exposures_stored_once(
    node: str, verdict: Verdict
):
    job = {
        "apiHost": verdict.url,
        "clientKey": verdict.client_key,
        "appKey": verdict.app_key,
        "keys": list(KEYS),
        "units": verdict.units,
    }
    out = _run(node, job)
    differences = []
    for unit_id, row in out["results"]:
        for key in KEYS:
            got = tuple(row[key])
            if got != verdict.reference[unit_id][key]:
                differences.append((unit_id, key, got, verdict.reference[unit_id][key]))
    assert len(out["results"]) == len(verdict.units)
    assert differences == []
    expected = {
        (key, unit_id)
        for unit_id, _ in verdict.units
        for key in KEYS
        if verdict.reference[unit_id][key][1] and (key, unit_id) not in FORCED
    }
    # One instance for every unit: the SDK tracks a unit once per experiment and hash value,
    # so units sharing an account_id are tracked once in sdk-account.
    tracked = set(Exposure.objects.values_list("experiment__key", "unit_id"))
    assert out["forwarded"] == Exposure.objects.count()
    assert all(status == 200 for status, _ in out["responses"])
    assert all(answer["rejected"] == [] for _, answer in out["responses"])
    assert sum(answer["accepted"] for _, answer in out["responses"]) == out["forwarded"]
    user_keyed = {(k, u) for k, u in expected if k != "sdk-account"}
    assert {(k, u) for k, u in tracked if k != "sdk-account"} == user_keyed
    assert {(k, u) for k, u in tracked if k == "sdk-account"} <= expected
