"""Tell the experiment's owner about health problems and decisions, once per condition.

Channels: email through Django's email backend (to ``experiment.owner.email``) and a webhook
(setting ``VERDICT_WEBHOOK_URL``): a JSON POST signed with HMAC-SHA256 of the body under
``VERDICT_WEBHOOK_SECRET`` in the ``X-Verdict-Signature: sha256=<hex>`` header (delivery is in
``core.notifications``). A ``Notification`` row per (experiment, condition) records what was
sent. Each webhook is a Celery task that retries with exponential backoff; one that still could
not be delivered is queued again with the next snapshot, and one the receiver refused with a 4xx
is final. Messages are in English, rendered from the snapshot's codes by ``analysis.words``
(the words the API serves).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from analysis.models import Notification, ResultSnapshot
from analysis.selectors import snapshot_results
from analysis.words import decision_reasons, health_message
from core.notifications import (
    WebhookRefused,
    WebhookTransient,
    email_send,
    webhook_post,
    webhook_url,
)
from core.vocab import Recommendation

logger = logging.getLogger(__name__)

NOTIFY_SEVERITIES = ("error", "warning")
# Every recommendation but "keep running" is news to the owner.
NOTIFY_DECISIONS = tuple(r for r in Recommendation if r != Recommendation.KEEP_RUNNING)


def snapshot_conditions(*, snapshot: ResultSnapshot) -> list[dict[str, Any]]:
    """What in this snapshot deserves a message: failing health checks and a decision, in
    English."""
    if not snapshot.results:
        return []
    with translation.override("en"):
        return _conditions(snapshot)


def _conditions(snapshot: ResultSnapshot) -> list[dict[str, Any]]:
    results = snapshot_results(snapshot=snapshot)
    prefix = f"phase-{snapshot.phase}"
    key = results.experiment
    out = []
    for check in results.health:
        if check.severity in NOTIFY_SEVERITIES:
            out.append(
                {
                    "condition": f"{prefix}:health:{check.condition}",
                    "kind": "health",
                    "severity": check.severity,
                    "subject": f"[Verdict] {key}: {check.check.replace('_', ' ')}",
                    "message": health_message(check),
                }
            )
    rec, variant = results.decision.recommendation, results.decision.variant
    if rec in NOTIFY_DECISIONS:
        label = rec.replace("_", " ") + (f" {variant}" if variant else "")
        out.append(
            {
                "condition": f"{prefix}:decision:{rec}" + (f":{variant}" if variant else ""),
                "kind": "decision",
                "severity": "info",
                "subject": f"[Verdict] {key}: decision reached: {label}",
                "message": " ".join(decision_reasons(results.decision)),
            }
        )
    return out


def notification_webhook_deliver(*, note: Notification) -> None:
    """POST the notification to the webhook once and record the answer on its row.

    Raises ``WebhookTransient`` for the calling task to retry with backoff. A 4xx answer is
    recorded and final: the notification is never sent again.
    """
    if note.webhook_sent_at is not None or not webhook_url():
        return
    note.webhook_url = webhook_url()
    note.webhook_attempts += 1
    fields = ["webhook_url", "webhook_attempts", "webhook_status", "webhook_sent_at"]
    try:
        note.webhook_status = webhook_post(payload=note.payload, delivery_id=str(note.id))
        note.webhook_sent_at = timezone.now()
        note.webhook_error = ""
    except WebhookRefused as exc:
        note.webhook_status, note.webhook_error = exc.status, f"refused: HTTP {exc.status}"
    except WebhookTransient as exc:
        note.webhook_status, note.webhook_error = exc.status, str(exc)
        raise
    finally:
        note.save(update_fields=[*fields, "webhook_error"])


def _queue_webhook(note: Notification) -> None:
    from analysis.tasks import deliver_notification_webhook

    transaction.on_commit(lambda: deliver_notification_webhook.delay(note.id))


def _send_email(note: Notification, to: str) -> None:
    if note.email_sent_at is not None:
        return
    if email_send(to=to, subject=note.subject, message=note.message):
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


def condition_notify(*, snapshot: ResultSnapshot, item: dict[str, Any]) -> Notification | None:
    """Record one condition (``item`` as in ``snapshot_conditions``) and, once the current
    transaction commits, email the owner and queue the webhook. None when the condition was
    already recorded (nothing is sent twice)."""
    note = _record(snapshot, item)
    if note is None:
        return None
    owner = snapshot.experiment.owner
    email = (owner.email if owner else "") or ""
    transaction.on_commit(lambda: _send_email(note, email))
    if webhook_url():
        _queue_webhook(note)
    return note


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
        if webhook_url():
            _queue_webhook(note)
    if not webhook_url():
        return created
    # Webhooks that could not be delivered earlier (unreachable, 429 or 5xx) get another chance;
    # one the receiver refused with a 4xx is final and not sent again.
    for note in (
        Notification.objects.filter(
            experiment_id=snapshot.experiment_id, webhook_sent_at__isnull=True
        )
        .exclude(id__in=[n.id for n in created])
        .exclude(webhook_error__startswith="refused:")
    ):
        _queue_webhook(note)
    return created
