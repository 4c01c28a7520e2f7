"""gunicorn settings for ``bench/soak.py``: Verdict's own (``config.gunicorn``) plus a report of
each worker's in-process caches.

After a request, at most every ``REPORT_SECONDS``, a worker writes ``core.caches.caches_info()``
(each registered cache's bound, estimated size and entries) as JSON to
``$VERDICT_SOAK_CACHE_DIR/<pid>.json``, so the soak can tell when each worker's caches are full.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

from config.gunicorn import json_error, limit_request_line, on_starting  # noqa: F401

REPORT_SECONDS = 5.0
_reported_at = [0.0]


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    directory = os.environ.get("VERDICT_SOAK_CACHE_DIR")
    now = time.monotonic()
    if not directory or now - _reported_at[0] < REPORT_SECONDS:
        return
    _reported_at[0] = now
    from core.caches import caches_info

    path = os.path.join(directory, f"{os.getpid()}.json")
    with open(f"{path}.tmp", "w") as out:
        json.dump([dataclasses.asdict(info) for info in caches_info()], out)
    os.replace(f"{path}.tmp", path)
