"""Rate limits: per API key on the runtime endpoints, per client IP on failed authentication.

Both limits count in fixed windows (``"<count>/<period>"``: ``120000/m``, ``20/h``, ``5/10s``;
windows start at multiples of the period since the epoch) in the cache named by
``RATELIMIT_USE_CACHE`` (Redis when ``CACHE_URL`` is set, so every server shares the counts;
in-process otherwise). Over a limit, the answer is a JSON 429 with ``Retry-After`` (seconds
until the window ends). Neither costs a cache round trip on most requests:

- **Per API key** (``VERDICT_RUNTIME_KEY_RATE``, on the URL names in
  ``VERDICT_RUNTIME_URL_NAMES``: assign, events, exposures; counted per key before the key is
  looked up). Each server process reserves calls from the key's shared counter in blocks (one
  ``INCRBY``) and spends them locally. A process's first block in a window is 1 call; each next
  one doubles, up to 1% of the limit (at least 1). A block is granted only up to the limit, so
  all servers together never serve more than the limit in a window. A process whose block was
  refused answers 429 until the window ends without asking again. Calls a process reserved but
  did not use are lost for the window: when a key's traffic is spread over many processes, it
  can be refused before it made ``limit`` calls, by at most the unused part of each process's
  last block (at most 1% of the limit per process, and never more than that process used).
- **Per client address on refused credentials** (``VERDICT_AUTH_FAILURE_RATE``). The address
  is ``client_ip``'s (``REMOTE_ADDR`` unless proxies are trusted). A credential is an
  ``Authorization`` header or the client key in the SDK payload's path. Every refused
  credential (401) increments the address's shared counter, and the new count tells the
  refusing process at once whether the address is over the limit. Requests carrying
  credentials from an address over the limit get 429 before any key lookup, until the window
  ends, except with a key known to be valid and in use (``core.auth.api_key_in_use``). A process
  reads an address's shared count at most once a second (``AUTH_CHECK_SECONDS``) for requests
  that carry credentials; in between it answers from what it knows. So a server learns of
  failures counted by other servers at most a second late, and past the limit each server
  process looks up at most one more credential from that address (the one whose refusal tells it
  the count) before it refuses them too.

When the cache cannot be reached the limits fail open: requests are served unlimited, one
warning is logged per outage, and the cache is tried again after ``OUTAGE_RETRY_SECONDS``.
An empty rate turns that limit off.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.settings import api_settings

from core.auth import api_key_in_use, bearer_token
from core.caches import bytes_cache, entry_bytes, function_cache_register

logger = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 5.0
# How often a process reads an address's shared count of refused credentials, at most.
AUTH_CHECK_SECONDS = 1.0
# The largest block of calls a process reserves from a key's counter: this share of the limit.
BLOCK_SHARE = 0.01
# This process's state per counter (API key or address) is bounded to this many bytes; the least
# recently used counters' state is dropped past it (their next call starts the window afresh).
WINDOWS_BYTES = 4 * 1024 * 1024
KEY_GROUP = "runtime-key"
AUTH_GROUP = "auth-failure"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")

_outage_until = 0.0
_in_outage = False
_lock = threading.Lock()


def client_ip(request: HttpRequest) -> str:
    """The client's address, the one rule for the rate limits and the login lockout.

    With ``REST_FRAMEWORK['NUM_PROXIES']`` = 0 (the default: no trusted proxy), it is
    ``REMOTE_ADDR``, whatever ``X-Forwarded-For`` says. With N trusted proxies, it is the
    ``X-Forwarded-For`` entry the outermost of them appended (the N-th from the right), or
    ``REMOTE_ADDR`` when the header is missing; entries further left were written by the client
    and are never trusted.
    """
    meta = request.META
    remote_addr = meta.get("REMOTE_ADDR") or ""
    num_proxies = api_settings.NUM_PROXIES or 0
    xff = meta.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not xff:
        return remote_addr
    addrs = [addr.strip() for addr in xff.split(",")]
    return addrs[-min(num_proxies, len(addrs))] or remote_addr


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"<count>/<period>"`` as (count, period in seconds): ``"20/m"`` is (20, 60),
    ``"5/10s"`` (5, 10). Raises ``ValueError`` for anything else."""
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"A rate is <count>/<period> with period s, m, h or d; got {rate!r}.")
    count, multiplier, unit = match.groups()
    period = int(multiplier or 1) * _PERIODS[unit]
    if period <= 0:
        raise ValueError(f"A rate's period must be positive; got {rate!r}.")
    return int(count), period


# Rates come from settings (a few, each a short string).
function_cache_register(
    parse_rate, name="parsed rates", holds="rate settings as (count, seconds)", max_entry_bytes=512
)


@dataclass(slots=True)
class _Window:
    """What this process knows about one counter in its current window."""

    start: int
    remaining: int = 0  # reserved calls not yet spent (key limit)
    block: int = 1  # the size of the next reservation (key limit)
    refused: bool = False  # the shared counter is over the limit for this window
    checked_at: float = -math.inf  # when the shared count was last read (address limit)


# A window's own fields: its ints and float (start, remaining, block, checked_at).
_WINDOW_FIELDS_BYTES = 160


def _window_entry_bytes(slot: tuple[str, str, str], state: _Window) -> int:
    # The group and rate are shared strings; the key or address is the caller's.
    return entry_bytes(slot, slot[2], state) + _WINDOW_FIELDS_BYTES


_windows = bytes_cache(
    "rate-limit windows",
    holds="this process's reservation and refusal state per API key and client address",
    maxbytes=WINDOWS_BYTES,
    entry_size=_window_entry_bytes,
    lock=_lock,
)


def _cache_key(group: str, rate: str, start: int, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"verdict:rl:{group}:{rate}:{start}:{digest}"


def _cache_call(call: Callable[[], Any]) -> Any:
    """``call()`` against the rate-limit cache, or None while the cache is down (one warning
    per outage; retried after ``OUTAGE_RETRY_SECONDS``)."""
    global _outage_until, _in_outage
    now = time.monotonic()
    if now < _outage_until:
        return None
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - any cache failure: serve unlimited
        _outage_until = now + OUTAGE_RETRY_SECONDS
        if not _in_outage:
            _in_outage = True
            logger.warning(
                "Rate limits are off: the cache is unreachable (%s).", type(exc).__name__
            )
        return None
    if _in_outage:
        _in_outage = False
        logger.warning("Rate limits are on again: the cache answers.")
    return result


def _add(group: str, rate: str, start: int, period: int, value: str, amount: int) -> int | None:
    """Add ``amount`` to the shared counter of ``value`` in the window from ``start``; the new
    count, or None while the cache is down."""
    cache = caches[settings.RATELIMIT_USE_CACHE]
    key = _cache_key(group, rate, start, value)

    def incr() -> int:
        try:
            return cache.incr(key, amount)
        except ValueError:  # no counter yet in this window
            if cache.add(key, amount, timeout=period + 60):
                return amount
            return cache.incr(key, amount)

    return _cache_call(incr)


def _read(group: str, rate: str, start: int, value: str) -> int | None:
    cache = caches[settings.RATELIMIT_USE_CACHE]
    key = _cache_key(group, rate, start, value)
    return _cache_call(lambda: int(cache.get(key) or 0))


def _window(group: str, rate: str, value: str, start: int) -> _Window:
    """This process's state for ``value``'s counter in the window from ``start`` (call with
    ``_lock`` held)."""
    slot = (group, rate, value)
    state = _windows.get(slot)
    if state is None or state.start != start:
        # Storing may drop the least recently used counters' state whole; a caller still holding
        # a dropped state only updates an object no longer consulted.
        state = _windows[slot] = _Window(start=start)
    return state


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over a limit: the message and the seconds until the window ends."""

    detail: str
    retry_after: int

    def response(self) -> HttpResponse:
        response = JsonResponse(
            {"detail": f"{self.detail} Retry after {self.retry_after} seconds."}, status=429
        )
        response["Retry-After"] = str(self.retry_after)
        return response


def _retry_after(start: int, period: int, now: float) -> int:
    return max(1, math.ceil(start + period - now))


def key_call_allowed(raw_key: str, rate: str) -> Refusal | None:
    """Count one call of ``raw_key`` against ``rate``; a ``Refusal`` when it is over."""
    limit, period = parse_rate(rate)
    now = time.time()
    start = int(now) // period * period
    with _lock:
        state = _window(KEY_GROUP, rate, raw_key, start)
        if state.remaining > 0:
            state.remaining -= 1
            return None
        refused = state.refused
        block = state.block
        if not refused:
            state.block = min(block * 2, max(1, int(limit * BLOCK_SHARE)))
    if not refused:
        # Outside the lock: other threads keep spending their reservations meanwhile.
        count = _add(KEY_GROUP, rate, start, period, raw_key, block)
        if count is None:  # cache down: unlimited
            return None
        granted = min(block, limit - (count - block))
        with _lock:
            if granted > 0:
                state.remaining += granted - 1
                return None
            state.refused = True
    return Refusal("This API key is over its rate limit.", _retry_after(start, period, now))


def address_refused(address: str, rate: str) -> Refusal | None:
    """A ``Refusal`` when ``address`` is over its limit of refused credentials."""
    limit, period = parse_rate(rate)
    now = time.time()
    start = int(now) // period * period
    with _lock:
        state = _window(AUTH_GROUP, rate, address, start)
        refused = state.refused
        check = not refused and time.monotonic() - state.checked_at >= AUTH_CHECK_SECONDS
    if check:
        count = _read(AUTH_GROUP, rate, start, address)
        with _lock:
            state.checked_at = time.monotonic()
            if count is not None and count >= limit:
                state.refused = refused = True
    if refused:
        return Refusal(
            "Too many refused credentials from this address.", _retry_after(start, period, now)
        )
    return None


def address_failure_count(address: str, rate: str) -> None:
    """Count one refused credential from ``address``; from the new count this process knows
    at once whether the address is over its limit."""
    limit, period = parse_rate(rate)
    start = int(time.time()) // period * period
    count = _add(AUTH_GROUP, rate, start, period, address, 1)
    with _lock:
        state = _window(AUTH_GROUP, rate, address, start)
        if count is not None:
            state.checked_at = time.monotonic()
            if count >= limit:
                state.refused = True


# URL names whose path carries a credential (the SDK payload's client key).
CREDENTIAL_IN_PATH = {"sdk-features": "client_key", "sdk-features-growthbook": "client_key"}
_CARRIES_CREDENTIAL = "_verdict_carries_credential"


def _credential(request: HttpRequest, view_kwargs: dict[str, Any]) -> str | None:
    """The credential a request carries ("" for an ``Authorization`` header that is not a
    well-formed bearer key), or None for a request without one."""
    match = request.resolver_match
    if match is not None and match.url_name in CREDENTIAL_IN_PATH:
        return str(view_kwargs.get(CREDENTIAL_IN_PATH[match.url_name], ""))
    if "HTTP_AUTHORIZATION" not in request.META:
        return None
    return bearer_token(request) or ""


class ThrottleMiddleware:
    """Answers 429 to callers over their limit; counts refused credentials per address.

    A credential is an ``Authorization`` header or the client key in the SDK payload's path.
    An address over its limit of refused credentials gets 429 before any lookup, except for a
    key known to be valid and in use (``core.auth.api_key_in_use``), which is authenticated as
    usual: a shared address is not locked out by another caller's failing key.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 401 and getattr(request, _CARRIES_CREDENTIAL, False):
            rate = settings.VERDICT_AUTH_FAILURE_RATE
            if rate:
                address_failure_count(client_ip(request), rate)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        credential = _credential(request, view_kwargs)
        if credential is None:
            return None
        setattr(request, _CARRIES_CREDENTIAL, True)
        rate = settings.VERDICT_AUTH_FAILURE_RATE
        if rate:
            refusal = address_refused(client_ip(request), rate)
            if refusal is not None and not (credential and api_key_in_use(credential)):
                return refusal.response()
        rate = settings.VERDICT_RUNTIME_KEY_RATE
        match = request.resolver_match
        if rate and credential and match and match.url_name in settings.VERDICT_RUNTIME_URL_NAMES:
            refusal = key_call_allowed(credential, rate)
            if refusal is not None:
                return refusal.response()
        return None


def rate_limits_reset() -> None:
    """Forget a remembered cache outage and this process's reservations and counts: the next
    request asks the cache again."""
    global _outage_until, _in_outage
    with _lock:
        _outage_until = 0.0
        _in_outage = False
        _windows.clear()
