"""The README's five-minute tour, run as written against a live dev server.

The tour's ``sh`` blocks are taken from README.md and run in one bash session (so variables
carry from block to block, as in a terminal), with the server's address changed to a free
port. The server is ``manage.py runserver`` on a fresh SQLite file with the demo definitions,
as ``make run`` serves it (the demo's simulated traffic is left out to keep the test quick).
A README edit that breaks the tour fails this test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR_HEADING = "## A five-minute tour"
ADDRESS = "http://127.0.0.1:8000"


def tour_blocks(text: str) -> list[str]:
    """The ``sh`` blocks of the tour section, in order."""
    start = text.index(TOUR_HEADING)
    end = text.find("\n## ", start + len(TOUR_HEADING))
    section = text[start : end if end != -1 else len(text)]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'tour.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
    )
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["demo", "--no-traffic"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/schema/", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.5)
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.mark.slow
def test_readme_tour__pasted_against_a_live_server__last_step_counts_the_purchase(server):
    url, env = server
    blocks = tour_blocks(README.read_text())
    assert len(blocks) == 5, "the tour has five steps, each with one sh block"
    assert not re.search(r"20\d\d-\d\d-\d\dT", "".join(blocks)), "no hard-coded timestamps"
    script = "set -euo pipefail\n" + "\n".join(b.replace(ADDRESS, url) for b in blocks)
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert '"accepted":1' in out.replace(" ", ""), out
    last = out.strip().splitlines()[-3:]
    assert "events: 1" in last[0], out
    conversions = [line.split(" paid conversion: ")[1] for line in last[1:]]
    assert "1.0" in conversions, out  # the unit's variant converted
