"""Where a data-plane assign call spends its time, in process (no network, no client).

Run:  .venv/bin/python bench/runtime_profile.py [--calls 20000] [--profile pyinstrument|cprofile]

Sets up the benchmark's definitions (``bench.assign.setup_definitions``: 10 running experiments
and an app key) in a fresh PostgreSQL database, then, in a process with the data plane's
settings (``bench.runtime_settings``, Redis cache), calls the WSGI application
(``config.runtime_wsgi``) directly for:

- ``POST /api/v1/assign`` of one experiment for an already exposed unit (the unit is assigned
  once first, so its exposure is stored and remembered);
- the same for exposed units whose body this process never answered (an attribute changes on
  every call), past the memo of answers;
- ``POST /bench/bare`` with the same body, through the floor's two middleware.

Printed: the median server time of each, the difference, the database queries and Redis round
trips per assign call (counted at the driver: psycopg's execute and redis-py's sends; a pipeline
is one round trip) and, optionally, a profile of the assign calls. pyinstrument is not a
dependency of Verdict: ``.venv/bin/pip install pyinstrument`` to use it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, ROOT, bench_env, recreate_database  # noqa: E402

DATABASE = "verdict_bench_profile"

CHILD = r"""
import io, json, os, statistics, sys, time
import django
django.setup()
from django.conf import settings
from django.db import connection
import redis.connection

from bench.assign import _body
from bench.urls import bare  # noqa: F401 (the floor's view)

CALLS = int(os.environ["PROFILE_CALLS"])
KEY = os.environ["PROFILE_KEY"]
MODE = os.environ["PROFILE_MODE"]

from django.core.handlers.wsgi import WSGIHandler
from django.test.utils import override_settings

plane = WSGIHandler()
with override_settings(
    MIDDLEWARE=["core.request_logs.RequestIdMiddleware",
                "django.middleware.security.SecurityMiddleware"]
):
    floor = WSGIHandler()

counts = {"db": 0, "redis": 0}

def count_db(execute, sql, params, many, context):
    counts["db"] += 1
    return execute(sql, params, many, context)

_send = redis.connection.AbstractConnection.send_packed_command
def send_packed_command(self, command, check_health=True):
    counts["redis"] += 1
    return _send(self, command, check_health)
redis.connection.AbstractConnection.send_packed_command = send_packed_command

def environ(path, body):
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": "Bearer " + KEY,
    }

def call(app, path, body):
    status = []
    out = b"".join(app(environ(path, body), lambda s, h: status.append(s)))
    assert status[0].startswith("200"), (status, out)
    return out

units = [f"seen-{i}" for i in range(1000)]
bodies = [_body("b", u) for u in units]
for body in bodies:  # expose each unit once: stored and remembered by this process
    call(plane, "/api/v1/assign", body)
size = len(call(plane, "/api/v1/assign", bodies[0]))
bare_path = f"/bench/bare?size={size}"

def timed(app, path, n):
    times = []
    for i in range(n):
        body = bodies[i % len(bodies)]
        t = time.perf_counter(); call(app, path, body); times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000

with connection.execute_wrapper(count_db):
    before = dict(counts)
    n = 2000
    for i in range(n):
        call(plane, "/api/v1/assign", bodies[i % len(bodies)])
    db = (counts["db"] - before["db"]) / n
    rd = (counts["redis"] - before["redis"]) / n

floor_ms = []
plane_ms = []
for _ in range(5):  # interleaved
    floor_ms.append(timed(floor, "/bench/bare", CALLS // 5))
    plane_ms.append(timed(plane, "/api/v1/assign", CALLS // 5))
# The same exposed units, each call with a body this process has not answered before (an
# attribute that changes on every call): the full path, past the memo of answers.
counter = iter(range(10**9))
def fresh_body(i):
    unit = units[i % len(units)]
    return json.dumps({"unit_id": unit, "attributes": {"country": "SG", "visit": next(counter)},
                       "experiments": ["bench-exp-0"]}).encode()
def timed_fresh(n):
    times = []
    for i in range(n):
        body = fresh_body(i)
        t = time.perf_counter()
        call(plane, "/api/v1/assign", body)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000
fresh_ms = [timed_fresh(CALLS // 5) for _ in range(5)]
f, p, q = statistics.median(floor_ms), statistics.median(plane_ms), statistics.median(fresh_ms)
print(f"answer body {size} bytes; CACHE: {settings.CACHES['default']['BACKEND']}")
print(f"bare view, 2 middleware:                  p50 {f:.3f} ms")
print(f"assign, exposed unit, repeated body:      p50 {p:.3f} ms   (+{p - f:.3f} ms)")
print(f"assign, exposed unit, body never seen:    p50 {q:.3f} ms   (+{q - f:.3f} ms)")
print(f"per assign call: {db:.3f} database queries, {rd:.3f} Redis round trips")

if MODE == "pyinstrument":
    from pyinstrument import Profiler
    profiler = Profiler(interval=0.0001)
    profiler.start()
    for i in range(CALLS):
        call(plane, "/api/v1/assign", bodies[i % len(bodies)])
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
elif MODE == "cprofile":
    import cProfile, pstats
    prof = cProfile.Profile()
    prof.enable()
    for i in range(CALLS):
        call(plane, "/api/v1/assign", bodies[i % len(bodies)])
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--profile", choices=["none", "pyinstrument", "cprofile"], default="none")
    parser.add_argument(
        "--cache", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")
    )
    args = parser.parse_args()
    url = recreate_database(DATABASE)
    from bench.assign import setup_definitions

    key = setup_definitions(url)
    env = bench_env(
        url,
        DJANGO_SETTINGS_MODULE="bench.runtime_settings",
        CACHE_URL=args.cache,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PROFILE_CALLS=str(args.calls),
        PROFILE_KEY=key,
        PROFILE_MODE=args.profile,
    )
    subprocess.run([PYTHON, "-c", CHILD], cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
