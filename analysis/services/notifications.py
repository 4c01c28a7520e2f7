"""Tell the experiment's owner about health problems and decisions, once per condition.

Channels: email through Django's email backend (to ``experiment.owner.email``) and a webhook
(setting ``VERDICT_WEBHOOK_URL``): a JSON POST signed with HMAC-SHA256 of the body under
``VERDICT_WEBHOOK_SECRET`` in the ``X-Verdict-Signature: sha256=<hex>`` header, retried with
backoff. A ``Notification`` row per (experiment, condition) records what was sent; a webhook
that could not be delivered is tried again with the next snapshot until it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from analysis.models import Notification, ResultSnapshot

logger = logging.getLogger(__name__)

NOTIFY_SEVERITIES = ("error", "warning")
NOTIFY_DECISIONS = ("ship", "keep_control", "inconclusive")


def snapshot_conditions(*, snapshot: ResultSnapshot) -> list[dict[str, Any]]:
    """What in this snapshot deserves a message: failing health checks and a decision."""
    results = snapshot.results
    prefix = f"phase-{snapshot.phase}"
    key = results["experiment"]
    out = []
    for check in results.get("health", []):
        if check["severity"] in NOTIFY_SEVERITIES:
            out.append(
                {
                    "condition": f"{prefix}:health:{check['condition']}",
                    "kind": "health",
                    "severity": check["severity"],
                    "subject": f"[Verdict] {key}: {check['check'].replace('_', ' ')}",
                    "message": check["message"],
                }
            )
    decision = results.get("decision") or {}
    rec = decision.get("recommendation")
    if rec in NOTIFY_DECISIONS:
        variant = decision.get("variant")
        label = rec.replace("_", " ") + (f" {variant}" if variant else "")
        out.append(
            {
                "condition": f"{prefix}:decision:{rec}" + (f":{variant}" if variant else ""),
                "kind": "decision",
                "severity": "info",
                "subject": f"[Verdict] {key}: decision reached: {label}",
                "message": " ".join(decision.get("reasons", [])),
            }
        )
    return out


def webhook_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``: receivers recompute it to authenticate a call."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return int(response.status)


def _deliver_webhook(note: Notification) -> None:
    url = getattr(settings, "VERDICT_WEBHOOK_URL", "") or ""
    if not url or note.webhook_sent_at is not None:
        return
    retries = int(getattr(settings, "VERDICT_WEBHOOK_RETRIES", 3))
    backoff = float(getattr(settings, "VERDICT_WEBHOOK_BACKOFF_SECONDS", 1.0))
    timeout = float(getattr(settings, "VERDICT_WEBHOOK_TIMEOUT_SECONDS", 5.0))
    body = json.dumps(note.payload, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Verdict-Webhook/1",
        "X-Verdict-Event": note.payload.get("kind", ""),
        "X-Verdict-Delivery": str(note.id),
    }
    secret = getattr(settings, "VERDICT_WEBHOOK_SECRET", "") or ""
    if secret:
        headers["X-Verdict-Signature"] = webhook_signature(body, secret)
    note.webhook_url = url
    for attempt in range(retries + 1):
        note.webhook_attempts += 1
        try:
            note.webhook_status = _post(url, body, headers, timeout)
            note.webhook_sent_at = timezone.now()
            note.webhook_error = ""
            break
        except urllib.error.HTTPError as exc:
            note.webhook_status, note.webhook_error = exc.code, f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                break  # the receiver refuses this payload; retrying will not help
        except (urllib.error.URLError, OSError) as exc:
            note.webhook_status, note.webhook_error = None, str(exc)[:500]
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    note.save(
        update_fields=[
            "webhook_url",
            "webhook_attempts",
            "webhook_status",
            "webhook_sent_at",
            "webhook_error",
        ]
    )


def _send_email(note: Notification, to: str) -> None:
    if not to or note.email_sent_at is not None:
        return
    try:
        send_mail(note.subject, note.message, None, [to], fail_silently=False)
    except Exception:
        logger.exception("notification email for %s failed", note.condition)
        return
    note.email_to = to
    note.email_sent_at = timezone.now()
    note.save(update_fields=["email_to", "email_sent_at"])


def _record(snapshot: ResultSnapshot, item: dict[str, Any]) -> Notification | None:
    """The notification row for a new condition, or None when it was already recorded."""
    payload = {
        **item,
        "experiment": snapshot.results["experiment"],
        "phase": snapshot.phase,
        "snapshot_id": snapshot.id,
        "computed_at": snapshot.results.get("computed_at"),
        "results_url": f"/api/v1/experiments/{snapshot.results['experiment']}/results",
    }
    try:
        with transaction.atomic():
            return Notification.objects.create(
                experiment_id=snapshot.experiment_id,
                condition=item["condition"],
                snapshot=snapshot,
                subject=item["subject"][:300],
                message=item["message"],
                payload=payload,
            )
    except IntegrityError:
        return None


def snapshot_notify(*, snapshot: ResultSnapshot) -> list[Notification]:
    """Send what is new in ``snapshot`` (each condition once); returns the new notifications."""
    owner = snapshot.experiment.owner
    email = (owner.email if owner else "") or ""
    created = []
    for item in snapshot_conditions(snapshot=snapshot):
        note = _record(snapshot, item)
        if note is None:
            continue
        created.append(note)
        _send_email(note, email)
        _deliver_webhook(note)
    # Webhooks that could not be delivered earlier get another chance.
    for note in Notification.objects.filter(
        experiment_id=snapshot.experiment_id, webhook_sent_at__isnull=True
    ).exclude(id__in=[n.id for n in created]):
        if getattr(settings, "VERDICT_WEBHOOK_URL", ""):
            _deliver_webhook(note)
    return created


def owner_notify(*, experiment: Any, condition: str, subject: str, message: str) -> bool:
    """Tell the owner about something outside a snapshot (e.g. a scheduled start that could
    not happen), once per condition. True when it was new."""
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                experiment=experiment,
                condition=condition,
                subject=subject[:300],
                message=message,
                payload={
                    "experiment": experiment.key,
                    "condition": condition,
                    "kind": "schedule",
                    "severity": "warning",
                    "subject": subject,
                    "message": message,
                },
            )
    except IntegrityError:
        return False
    _send_email(note, (experiment.owner.email if experiment.owner else "") or "")
    _deliver_webhook(note)
    return True
