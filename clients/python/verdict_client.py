"""A small Python client for Verdict's runtime API: assign units, track events.

One module, standard library only (``urllib`` and ``threading``); copy it into your project.

    from verdict_client import VerdictClient

    verdict = VerdictClient("https://verdict.example.com", "vk_...", timeout=0.3)
    answer = verdict.assign("user-42", {"country": "SG"}, experiments=["pricing-pro-tier"])
    price = (answer["pricing-pro-tier"].payload or {}).get("monthly_price", 39)
    verdict.track("purchase", "user-42", value=29.0, properties={"currency": "EUR"})
    verdict.close()  # at shutdown: sends what is still buffered

Neither ``assign`` nor ``track`` raises into the application when Verdict is slow or down:

- ``assign`` keeps answers in a local cache for ``cache_ttl`` seconds (assignment is
  deterministic, so a cached answer stays right until an experiment changes). When a call fails
  (timeout, connection error, HTTP error, unreadable answer) it answers, per experiment, with:
  the last good answer for the same unit, attributes and experiments, even if expired; else the
  experiment's control (variant and payload learned from earlier answers), with
  ``in_experiment=False`` and reason ``"unavailable"``; else ``variant=None, payload=None``,
  reason ``"unavailable"``: the application then shows its default. Fallback answers have
  ``fallback=True``. After a failure, calls skip the network for ``retry_after`` seconds.
- ``track`` appends to a bounded in-memory buffer (the oldest events are dropped when it is
  full, counted in ``stats["dropped"]``); a background thread sends batches of up to 1,000 to
  ``POST /api/v1/events``, retrying failed batches with the same event ids (the server drops
  duplicates), with exponential back-off. ``flush()`` waits until the buffer is sent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Assignment", "VerdictClient"]

log = logging.getLogger("verdict_client")

# Reasons whose answer carries the control's variant and payload.
_CONTROL_REASONS = frozenset(
    {"not_targeted", "outside_coverage", "outside_layer", "paused", "missing_unit_attribute"}
)
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_BATCH = 1000


@dataclass(frozen=True)
class Assignment:
    experiment: str
    variant: str | None
    payload: Any
    in_experiment: bool
    reason: str
    fallback: bool = False


class _HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status = status


def _iso(moment: datetime | str | None) -> str:
    if moment is None:
        return datetime.now(UTC).isoformat()
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:  # naive datetimes are taken as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


class VerdictClient:
    """Assign units and track events against one Verdict server. Thread-safe."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 0.5,
        cache_ttl: float = 60.0,
        cache_size: int = 10_000,
        retry_after: float = 5.0,
        max_buffer: int = 10_000,
        batch_size: int = MAX_BATCH,
        flush_interval: float = 2.0,
        max_backoff: float = 60.0,
        events_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.cache_size = cache_size
        self.retry_after = retry_after
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.flush_interval = flush_interval
        self.max_backoff = max_backoff
        self.events_timeout = events_timeout
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": "verdict-client-python/1",
        }
        self._lock = threading.Lock()
        self._answers: OrderedDict[tuple, tuple[float, dict[str, Assignment]]] = OrderedDict()
        self._controls: dict[str, tuple[str | None, Any]] = {}
        self._down_until = 0.0
        self.last_error: str | None = None
        self.stats = {"dropped": 0, "sent": 0, "duplicates": 0, "rejected": 0, "failed": 0}

        self._buffer: deque[dict[str, Any]] = deque(maxlen=max(1, max_buffer))
        self._inflight: list[dict[str, Any]] = []
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._flush_requested = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ assign

    def assign(
        self,
        unit_id: str,
        attributes: dict[str, Any] | None = None,
        experiments: list[str] | None = None,
        *,
        track: bool = True,
    ) -> dict[str, Assignment]:
        """Variants of ``unit_id`` keyed by experiment key (every live experiment when
        ``experiments`` is None). Never raises; see the module docstring for the fallbacks."""
        try:
            key = (
                unit_id,
                json.dumps(attributes or {}, sort_keys=True, default=str),
                tuple(experiments) if experiments is not None else None,
                track,
            )
        except (TypeError, ValueError):
            key = None
        now = time.monotonic()
        with self._lock:
            cached = self._answers.get(key) if key is not None else None
            if cached is not None and cached[0] > now:
                self._answers.move_to_end(key)
                return cached[1]
            skip_network = now < self._down_until
        if not skip_network:
            try:
                answer = self._fetch(unit_id, attributes, experiments, track)
            except Exception as exc:  # noqa: BLE001 - the application must never see it
                self._note_failure(exc)
            else:
                self._remember(key, answer)
                return answer
        return self._fallback(cached[1] if cached else None, experiments)

    def _fetch(
        self,
        unit_id: str,
        attributes: dict[str, Any] | None,
        experiments: list[str] | None,
        track: bool,
    ) -> dict[str, Assignment]:
        body: dict[str, Any] = {"unit_id": unit_id, "attributes": attributes or {}}
        if experiments is not None:
            body["experiments"] = list(experiments)
        if not track:
            body["track"] = False
        data = self._post("/api/v1/assign", body, self.timeout)
        return {
            item["experiment"]: Assignment(
                experiment=item["experiment"],
                variant=item["variant"],
                payload=item["payload"],
                in_experiment=bool(item["in_experiment"]),
                reason=item["reason"],
            )
            for item in data["assignments"]
        }

    def _remember(self, key: tuple | None, answer: dict[str, Assignment]) -> None:
        with self._lock:
            self._down_until = 0.0
            for a in answer.values():
                if a.reason in _CONTROL_REASONS:
                    self._controls[a.experiment] = (a.variant, a.payload)
            if key is None:
                return
            self._answers[key] = (time.monotonic() + self.cache_ttl, answer)
            self._answers.move_to_end(key)
            while len(self._answers) > self.cache_size:
                self._answers.popitem(last=False)

    def _note_failure(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, _HttpError) and exc.status not in _RETRY_STATUSES:
            # The server answered but refused this call (bad input, bad key): not an outage.
            log.error("Verdict refused an assign call, serving fallbacks: %s", self.last_error)
            return
        log.warning("Verdict assign failed, serving fallbacks: %s", self.last_error)
        with self._lock:
            self._down_until = time.monotonic() + self.retry_after

    def _fallback(
        self, stale: dict[str, Assignment] | None, experiments: list[str] | None
    ) -> dict[str, Assignment]:
        if stale is not None:
            return {k: _as_fallback(a) for k, a in stale.items()}
        with self._lock:
            keys = list(experiments) if experiments is not None else list(self._controls)
            answer = {}
            for k in keys:
                variant, payload = self._controls.get(k, (None, None))
                answer[k] = Assignment(k, variant, payload, False, "unavailable", fallback=True)
            return answer

    # ------------------------------------------------------------------- track

    def track(
        self,
        event: str,
        unit_id: str,
        value: float | None = None,
        properties: dict[str, Any] | None = None,
        timestamp: datetime | str | None = None,
        event_id: str | None = None,
    ) -> str:
        """Buffer one event for sending; returns its ``event_id`` (a new UUID unless given).

        ``timestamp`` defaults to now; naive datetimes are taken as UTC. Never raises."""
        event_id = event_id or str(uuid.uuid4())
        try:
            item = {
                "event_id": event_id,
                "unit_id": unit_id,
                "event": event,
                "timestamp": _iso(timestamp),
                "value": value,
                "properties": properties or {},
            }
        except Exception as exc:  # noqa: BLE001
            log.warning("Verdict track ignored an event it could not read: %s", exc)
            return event_id
        with self._wake:
            if self._closed:
                log.warning("Verdict client is closed; event %s not sent", event_id)
                return event_id
            if len(self._buffer) == self._buffer.maxlen:
                self.stats["dropped"] += 1
            self._buffer.append(item)
            self._start_thread()
            if len(self._buffer) >= self.batch_size:
                self._wake.notify_all()
        return event_id

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Send everything buffered now; wait until it is sent (True) or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._wake:
            if not self._buffer and not self._inflight:
                return True
            self._start_thread()
            self._flush_requested = True
            self._wake.notify_all()
            while self._buffer or self._inflight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._wake.wait(remaining)
            return True

    def close(self, timeout: float | None = 10.0) -> bool:
        """Flush, then stop the background sender. Returns whether everything was sent."""
        sent = self.flush(timeout)
        with self._wake:
            self._closed = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=1.0)
        return sent

    @property
    def pending(self) -> int:
        """Events buffered or being sent."""
        with self._lock:
            return len(self._buffer) + len(self._inflight)

    def _start_thread(self) -> None:
        # Called with the lock held.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._sender, name="verdict-events", daemon=True)
            self._thread.start()

    def _sender(self) -> None:
        backoff = 0.0
        while True:
            with self._wake:
                wait_until = time.monotonic() + (backoff or self.flush_interval)
                while not self._closed:
                    ready = len(self._buffer) >= self.batch_size or self._flush_requested
                    if (ready or self._inflight) and not backoff:
                        break
                    remaining = wait_until - time.monotonic()
                    if remaining <= 0:
                        break
                    self._wake.wait(remaining)
                if self._closed and not self._inflight:
                    return
                if not self._inflight:
                    while self._buffer and len(self._inflight) < self.batch_size:
                        self._inflight.append(self._buffer.popleft())
                batch = list(self._inflight)
                if not batch:
                    self._flush_requested = False
                    self._wake.notify_all()
                    continue
            outcome = self._send_batch(batch)
            with self._wake:
                if outcome == "retry":
                    backoff = min(max(backoff * 2, 0.5), self.max_backoff)
                    if self._closed:
                        return
                else:
                    backoff = 0.0
                    self._inflight = []
                    if not self._buffer:
                        self._flush_requested = False
                self._wake.notify_all()

    def _send_batch(self, batch: list[dict[str, Any]]) -> str:
        """POST one batch: "done" (stored or refused for good) or "retry"."""
        body = {"events": batch, "sent_at": datetime.now(UTC).isoformat()}
        try:
            result = self._post("/api/v1/events", body, self.events_timeout)
        except _HttpError as exc:
            if exc.status in _RETRY_STATUSES:
                log.warning("Verdict events batch will be retried: %s", exc)
                return "retry"
            log.error("Verdict refused an events batch of %d: %s", len(batch), exc)
            self.stats["failed"] += len(batch)
            return "done"
        except Exception as exc:  # noqa: BLE001 - network trouble: keep the batch and retry
            log.warning("Verdict events batch will be retried: %s", exc)
            return "retry"
        rejected = result.get("rejected") or []
        for item in rejected[:10]:
            log.warning("Verdict rejected event %s: %s", item.get("index"), item.get("reason"))
        self.stats["sent"] += int(result.get("accepted", 0))
        self.stats["duplicates"] += int(result.get("duplicates", 0))
        self.stats["rejected"] += len(rejected)
        return "done"

    # -------------------------------------------------------------------- http

    def _post(self, path: str, body: dict[str, Any], timeout: float) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body, default=str).encode(),
            headers=self._headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _HttpError(exc.code, exc.read() if exc.fp else b"") from None


def _as_fallback(a: Assignment) -> Assignment:
    return Assignment(a.experiment, a.variant, a.payload, a.in_experiment, a.reason, True)
