"""Credentials as a real production-settings gunicorn server meets them on loopback.

- With no trusted proxy (``DJANGO_NUM_PROXIES=0``, the default) the client address is
  ``REMOTE_ADDR`` whatever ``X-Forwarded-For`` says: rotating that header neither escapes the
  limit of refused keys nor the login lockout.
- An address over its limit of refused keys still serves a key that is known to be valid: one
  app's failures do not lock out the others behind the same address.
- The SDK payload path answers an unknown key and a valid secret key the same way, and counts
  both as refused credentials.
- A valid bearer key on a page that renders HTML (the API docs) is served, not a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hardening.server import Server, gunicorn

pytestmark = pytest.mark.slow

LIMIT = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("credentials")
    # One worker with its in-process counters: every request meets the same counts.
    env = {
        "VERDICT_AUTH_FAILURE_RATE": f"{LIMIT}/h",
        "VERDICT_LOGIN_FAILURE_LIMIT": "5",
    }
    with gunicorn(folder, env=env, workers=1) as running:
        running.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.create_user('pat', password='right-password')",
        )
        yield running


def _garbage(index: int) -> dict[str, str]:
    return {"Authorization": f"Bearer vk_not_a_key_{index}"}


def _forwarded(index: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{index % 250}, 198.51.100.{index % 200}"}


def test_refused_keys__rotating_x_forwarded_for__still_limited(server: Server) -> None:
    statuses = []
    for index in range(LIMIT + 10):
        headers = {**_garbage(index), **_forwarded(index)}
        statuses.append(
            requests.get(
                f"{server.base}/api/v1/experiments", headers=headers, timeout=10
            ).status_code
        )
    assert statuses[:LIMIT] == [401] * LIMIT
    assert set(statuses[LIMIT:]) == {429}


def test_refused_keys__address_over_limit__a_key_in_use_is_still_served(tmp_path: Path) -> None:
    with gunicorn(tmp_path, env={"VERDICT_AUTH_FAILURE_RATE": "5/h"}, workers=1) as srv:
        viewer = {"Authorization": f"Bearer {srv.api_key('viewer-in-use', 'viewer')}"}
        assert requests.get(f"{srv.base}/api/v1/experiments", headers=viewer, timeout=10).ok
        for index in range(6):
            requests.get(f"{srv.base}/api/v1/experiments", headers=_garbage(index), timeout=10)
        refused = requests.get(f"{srv.base}/api/v1/experiments", headers=_garbage(9), timeout=10)
        assert refused.status_code == 429
        # Another app's key behind the same address is not punished for those failures.
        served = requests.get(f"{srv.base}/api/v1/experiments", headers=viewer, timeout=10)
        assert served.status_code == 200, served.text


def test_sdk_payload__unknown_and_secret_keys__same_answer_and_counted(
    tmp_path: Path,
) -> None:
    with gunicorn(tmp_path, env={"VERDICT_AUTH_FAILURE_RATE": "5/h"}, workers=1) as srv:
        secret = srv.api_key("secret-admin", "admin")
        client = srv.api_key("browser", "client")
        assert requests.get(f"{srv.base}/api/v1/sdk/{client}/features", timeout=10).ok
        unknown = requests.get(f"{srv.base}/api/v1/sdk/vk_unknown/features", timeout=10)
        known = requests.get(f"{srv.base}/api/v1/sdk/{secret}/features", timeout=10)
        assert unknown.status_code == known.status_code == 401
        assert unknown.json() == known.json()
        for index in range(3):
            requests.get(f"{srv.base}/api/v1/sdk/vk_guess_{index}/features", timeout=10)
        limited = requests.get(f"{srv.base}/api/v1/sdk/vk_another/features", timeout=10)
        assert limited.status_code == 429
        assert limited.headers["Content-Type"] == "application/json"
        assert "Retry-After" in limited.headers
        # The client key in use is still served from the limited address.
        served = requests.get(f"{srv.base}/api/v1/sdk/{client}/features", timeout=10)
        assert served.status_code == 200
        assert "features" in served.json()


def _csrf(session: requests.Session, base: str) -> tuple[str, str]:
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1), page.cookies["csrftoken"]


def _login(base: str, password: str, headers: dict[str, str]) -> requests.Response:
    # Production cookies are Secure; over plain HTTP on loopback they are sent by hand.
    session = requests.Session()
    token, cookie = _csrf(session, base)
    return requests.post(
        f"{base}/accounts/login/",
        data={"username": "pat", "password": password, "csrfmiddlewaretoken": token},
        headers={**headers, "Cookie": f"csrftoken={cookie}", "Referer": f"{base}/"},
        allow_redirects=False,
        timeout=10,
    )


def test_login_lockout__rotating_x_forwarded_for__still_locked_out(server: Server) -> None:
    statuses = [_login(server.base, "wrong", _forwarded(i)).status_code for i in range(12)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[4:]) == {429}
    right = _login(server.base, "right-password", _forwarded(99))
    assert right.status_code == 429
    assert "sessionid" not in right.cookies


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/docs/", {}),
        ("/api/redoc/", {}),
        ("/api/v1/experiments", {"Accept": "text/html"}),
    ],
)
@pytest.mark.parametrize("method", ["GET", "OPTIONS", "HEAD"])
def test_html_pages__valid_bearer_key__no_server_error(
    server: Server, path: str, headers: dict[str, str], method: str
) -> None:
    key = server.api_key(f"docs-{method}-{path.strip('/').replace('/', '-')}", "viewer")
    answer = requests.request(
        method,
        f"{server.base}{path}",
        headers={**headers, "Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code < 500, answer.text[:500]
