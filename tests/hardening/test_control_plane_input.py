"""Control-plane writes with bad input, through a real server (issue 21, defects 4, 5 and 6).

- ``PATCH /api/v1/experiments/<key>`` with a metric link or a variant missing a required field
  answered 500 (a ``KeyError`` in the service): DRF skips every missing field once the root
  serializer is partial, nested items included.
- JSON nested a thousand levels deep answered 500 (a ``RecursionError`` in the JSON parser) on
  variant payloads, targeting and data-source options, and in the guided form's JSON boxes.
- Variant weights of 1.7e308 were accepted: their sum overflowed, so the SDK payload carried
  ``"weights": [0.0, 0.0]`` (SDKs put nobody in) while ``/assign`` split units 50/50.

A gunicorn server (test settings, a fresh SQLite file) is started once for the module, as in
``test_fuzz.py``: the recursion limit is met at the depth a served request meets it.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

# Each module run starts a production gunicorn: slow (CI's full pass runs it).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOO_DEEP = "Nested more than 32 levels deep."
PASSWORD = "form-editor-password-1"


@dataclass(frozen=True)
class Served:
    base: str
    editor: dict[str, str]
    admin: dict[str, str]

    def call(self, method: str, path: str, body: Any = None, *, admin: bool = False) -> Any:
        """One API call; ``body`` is JSON text (sent as it is) or a value to encode."""
        headers = {**(self.admin if admin else self.editor), "Content-Type": "application/json"}
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        return requests.request(method, self.base + path, data=data, headers=headers, timeout=60)


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
            "VERDICT_AUTH_FAILURE_RATE": "",
            "VERDICT_RUNTIME_KEY_RATE": "",
        }
    )
    for name in ("CACHE_URL", "CELERY_BROKER_URL", "DJANGO_NUM_PROXIES"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gunicorn server on loopback with a metric ``paid``, a draft ``draft`` and a running
    ``live`` experiment, an editor and an admin API key, and a staff user for the web form."""
    folder = tmp_path_factory.mktemp("control-plane")
    env = _env(folder / "server.sqlite3")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    editor = manage("create_api_key", "editor", "--role", "editor").strip().splitlines()[-1]
    admin = manage("create_api_key", "admin", "--role", "admin").strip().splitlines()[-1]
    manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user('pm', password='{PASSWORD}', is_staff=True)",
    )
    port = _free_port()
    log = (folder / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
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
        served = Served(
            base=f"http://127.0.0.1:{port}",
            editor={"Authorization": f"Bearer {editor}"},
            admin={"Authorization": f"Bearer {admin}"},
        )
        _setup(served)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _experiment(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": f"Experiment {key}",
        "kind": "pricing",
        "variants": [
            {"key": "a", "name": "A", "is_control": True, "payload": {"price": 29}},
            {"key": "b", "name": "B", "payload": {"price": 19}},
        ],
        "metrics": [{"metric": "paid", "role": "primary"}],
        **fields,
    }


def _setup(served: Served) -> None:
    metric = {"key": "paid", "name": "Paid", "type": "conversion", "event": "purchase"}
    assert served.call("POST", "/api/v1/metrics", metric).status_code == 201
    for key in ("draft", "live"):
        body = _experiment(key)
        body["variants"][1]["weight"] = 3
        created = served.call("POST", "/api/v1/experiments", body)
        assert created.status_code == 201, created.text
    started = served.call("POST", "/api/v1/experiments/live/start", {})
    assert started.status_code == 200, started.text


def _state(served: Served, key: str) -> dict[str, Any]:
    answer = served.call("GET", f"/api/v1/experiments/{key}")
    assert answer.status_code == 200
    body = answer.json()
    body.pop("updated_at")
    return body


# --- defect 4: a PATCH's nested items ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": [{"role": "primary"}]}, "metrics[0].metric"),
        ({"metrics": [{"metric": "paid"}]}, "metrics[0].role"),
        ({"variants": [{"name": "A"}, {"key": "b"}]}, "variants[0].key"),
    ],
)
def test_experiment_patch__nested_item_missing_a_required_field__400_names_it(
    server: Served, body: dict[str, Any], field: str
) -> None:
    before = _state(server, "draft")

    answer = server.call("PATCH", "/api/v1/experiments/draft", body)

    assert answer.status_code == 400, answer.text
    assert answer.json() == {field: ["This field is required."]}
    assert _state(server, "draft") == before


def test_experiment_patch__running_variants_renamed__weights_control_and_payloads_kept(
    server: Served,
) -> None:
    before = _state(server, "live")["variants"]

    renamed = server.call(
        "PATCH",
        "/api/v1/experiments/live",
        {"variants": [{"key": "a", "name": "Renamed"}, {"key": "b"}]},
    )

    assert renamed.status_code == 200, renamed.text
    after = renamed.json()["variants"]
    assert after == [{**before[0], "name": "Renamed"}, before[1]]
    assert [v["weight"] for v in after] == [1.0, 3.0]
    assert after[0]["is_control"] and after[0]["payload"] == {"price": 29}


def test_experiment_patch__second_control_next_to_the_stored_one__400_not_500(
    server: Served,
) -> None:
    before = _state(server, "draft")

    answer = server.call(
        "PATCH",
        "/api/v1/experiments/draft",
        {"variants": [{"key": "a"}, {"key": "b", "is_control": True}]},
    )

    assert answer.status_code == 400, answer.text
    assert list(answer.json()) == ["variants"]
    assert _state(server, "draft") == before


# --- defect 5: deep JSON -----------------------------------------------------------------------


def _arrays(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _and(levels: int) -> str:
    return '{"$and":[' * levels + '{"country":"SG"}' + "]}" * levels


def _payload_body(depth: int) -> str:
    return (
        '{"key":"deep","name":"Deep","variants":[{"key":"a","is_control":true,"payload":'
        + _arrays(depth)
        + '},{"key":"b"}]}'
    )


DEEP_WRITES = [
    ("POST", "/api/v1/experiments", _payload_body, "variants[0].payload"),
    ("PATCH", "/api/v1/experiments/draft", lambda d: f'{{"targeting":{_and(d)}}}', "targeting"),
    ("PATCH", "/api/v1/experiments/draft", lambda d: f'{{"name":{_arrays(d)}}}', "name"),
    (
        "POST",
        "/api/v1/experiments/live/new-phase",
        lambda d: '{"weights":{"a":' + _arrays(d - 1) + "}}",
        "weights",
    ),
    (
        "POST",
        "/api/v1/data-sources",
        lambda d: (
            '{"key":"lake","name":"Lake","kind":"spark","options":{"x":' + _arrays(d - 1) + "}}"
        ),
        "options",
    ),
]


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    DEEP_WRITES,
    ids=[write[3] for write in DEEP_WRITES],
)
def test_control_plane_write__json_nested_too_deep__400_names_the_field_nothing_stored(
    server: Served, method: str, path: str, body: Any, field: str, depth: int
) -> None:
    before = [_state(server, "draft"), _state(server, "live")]

    answer = server.call(method, path, body(depth), admin="data-sources" in path)

    assert answer.status_code == 400, answer.text[:500]
    assert answer.json() == {field: [TOO_DEEP]}
    assert [_state(server, "draft"), _state(server, "live")] == before
    assert server.call("GET", "/api/v1/experiments/deep").status_code == 404
    assert server.call("GET", "/api/v1/data-sources/lake", admin=True).status_code == 404


def test_experiment__payload_and_targeting_32_levels_deep__accepted(server: Served) -> None:
    payload = json.loads(_arrays(32))
    targeting = json.loads(_and(15))  # 31 levels: an object and an array per $and, and the leaf
    body = _experiment("deep-ok", targeting=targeting)
    body["variants"][1]["payload"] = payload

    answer = server.call("POST", "/api/v1/experiments", body)

    assert answer.status_code == 201, answer.text
    assert answer.json()["variants"][1]["payload"] == payload
    assert answer.json()["targeting"] == targeting


def _form_session(server: Served) -> tuple[requests.Session, str]:
    session = requests.Session()
    login_page = session.get(f"{server.base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
    assert token is not None
    signed_in = session.post(
        f"{server.base}/accounts/login/",
        data={"username": "pm", "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{server.base}/accounts/login/"},
        timeout=30,
    )
    assert signed_in.status_code == 200 and "/accounts/login/" not in signed_in.url
    return session, session.cookies["csrftoken"]


def _form_post(**fields: str) -> dict[str, str]:
    return {
        "name": "Deep form",
        "key": "deep-form",
        "kind": "pricing",
        "variants-0-key": "control",
        "variants-0-name": "Control",
        "variants-0-weight": "1",
        "variants-0-payload": '{"monthly_price": 29}',
        "variants-1-key": "cheaper",
        "variants-1-name": "Cheaper",
        "variants-1-weight": "1",
        "variants-1-payload": '{"monthly_price": 19}',
        "control": "0",
        "targeting": "{}",
        "coverage": "100",
        "unit_attribute": "user_id",
        "layer_share": "100",
        "method": "frequentist",
        "correction": "none",
        "alpha": "0.05",
        "test_attributes": "{}",
        "action": "save",
        **fields,
    }


# Form-encoded, each bracket takes three bytes: 20,000 levels stay under the body limit.
@pytest.mark.parametrize("depth", [33, 1_000, 20_000])
def test_guided_form__deep_json_in_payload_and_targeting__message_next_to_each_field(
    server: Served, depth: int
) -> None:
    session, token = _form_session(server)
    url = f"{server.base}/experiments/new/"
    fields = {"variants-1-payload": _arrays(depth), "targeting": _and(depth)}

    answer = session.post(
        url,
        data={**_form_post(**fields), "csrfmiddlewaretoken": token},
        headers={"Referer": url},
        timeout=60,
    )

    assert answer.status_code == 200, answer.text[-2000:]
    row = answer.text.split('id="variant-row-1"')[1].split("</tr>")[0]
    assert TOO_DEEP in row
    targeting = answer.text.split('id="id_targeting"')[1].split('value="load-json"')[0]
    assert TOO_DEEP in targeting
    assert server.call("GET", "/api/v1/experiments/deep-form").status_code == 404


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("test-unit", {"test_attributes": _arrays(100_000)}),
        ("test-unit", {"targeting": _and(1_000)}),
        ("load-json", {"targeting": _and(20_000)}),
    ],
)
def test_guided_form__deep_json_for_the_builder_buttons__message_not_500(
    server: Served, action: str, fields: dict[str, str]
) -> None:
    session, token = _form_session(server)
    url = f"{server.base}/experiments/new/"

    answer = session.post(
        url,
        data={**_form_post(**fields), "action": action, "csrfmiddlewaretoken": token},
        headers={"Referer": url},
        timeout=60,
    )

    assert answer.status_code == 200, answer.text[-2000:]
    assert TOO_DEEP in answer.text


# --- defect 6: weights -------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [1.7e308, 1_000_000.5])
def test_experiment_create__weight_over_the_limit__400_names_the_weight(
    server: Served, weight: float
) -> None:
    body = _experiment("heavy")
    for variant in body["variants"]:
        variant["weight"] = weight

    answer = server.call("POST", "/api/v1/experiments", body)

    assert answer.status_code == 400, answer.text
    errors = answer.json()
    assert set(errors) == {"variants[0].weight", "variants[1].weight"}
    assert "weights are at most 1e6" in errors["variants[0].weight"][0]
    assert server.call("GET", "/api/v1/experiments/heavy").status_code == 404


def test_new_phase__weight_over_the_limit__400_and_the_phase_unchanged(server: Served) -> None:
    before = _state(server, "live")

    answer = server.call(
        "POST", "/api/v1/experiments/live/new-phase", {"weights": {"a": 1.7e308, "b": 1}}
    )

    assert answer.status_code == 400, answer.text
    assert answer.json() == {"weights": ["Weights must be numbers above 0 and at most 1e6: a."]}
    assert _state(server, "live") == before


def test_experiment__weights_at_the_limit__accepted(server: Served) -> None:
    body = _experiment("limit-weights")
    body["variants"][0]["weight"] = 1e6
    body["variants"][1]["weight"] = 1e6

    created = server.call("POST", "/api/v1/experiments", body)

    assert created.status_code == 201, created.text
    assert [v["weight"] for v in created.json()["variants"]] == [1e6, 1e6]
