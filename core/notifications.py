"""How Verdict tells people things: email through Django's backend, and signed webhooks.

What to say and when is the callers' business (``analysis`` for results, ``experiments`` for
schedules); this module only delivers. A webhook is a JSON POST to ``VERDICT_WEBHOOK_URL``
signed with HMAC-SHA256 of the body under ``VERDICT_WEBHOOK_SECRET`` in the
``X-Verdict-Signature: sha256=<hex>`` header. ``webhook_post`` raises ``WebhookTransient`` for
answers worth retrying (network errors, 429, 5xx) and ``WebhookRefused`` for a final 4xx; the
Celery tasks that call it retry the first with backoff and never re-send the second.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)


class WebhookTransient(Exception):
    """The receiver could not be reached or answered 429/5xx: worth another try later."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class WebhookRefused(Exception):
    """The receiver answered 4xx (not 429): it refuses this payload, so it is not re-sent."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


def webhook_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``: receivers recompute it to authenticate a call."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_url() -> str:
    """Where webhooks go; empty when none is configured."""
    return settings.VERDICT_WEBHOOK_URL or ""


def webhook_post(*, payload: dict[str, Any], delivery_id: str) -> int:
    """POST ``payload`` once to the configured webhook; returns the 2xx/3xx status."""
    url = webhook_url()
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Verdict-Webhook/1",
        "X-Verdict-Event": str(payload.get("kind", "")),
        "X-Verdict-Delivery": delivery_id,
    }
    secret = settings.VERDICT_WEBHOOK_SECRET or ""
    if secret:
        headers["X-Verdict-Signature"] = webhook_signature(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(  # noqa: S310 (the operator configures the URL)
            request, timeout=settings.VERDICT_WEBHOOK_TIMEOUT_SECONDS
        ) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code < 500 and exc.code != 429:
            raise WebhookRefused(exc.code) from exc
        raise WebhookTransient(f"HTTP {exc.code}", status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookTransient(str(exc)[:500]) from exc


def email_send(*, to: str, subject: str, message: str) -> bool:
    """Send one plain-text email; False (and a log line) when there is no address or it fails."""
    if not to:
        return False
    try:
        send_mail(subject, message, None, [to], fail_silently=False)
    except Exception:
        logger.exception("email %r to %s failed", subject, to)
        return False
    return True
