"""Celery tasks every app may queue: webhook delivery with retries and backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from core.notifications import WebhookRefused, WebhookTransient, webhook_post, webhook_url

logger = logging.getLogger(__name__)


class RetryingTask(Task):
    """A task whose retries also work with no broker (tasks run in-process).

    Celery's eager mode hands a retry back to the caller as an exception when eager errors
    propagate; this base runs the retries one after another instead (without the backoff wait)
    and leaves the outcome in the task's result, so queueing it never breaks the caller.
    """

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["throw"] = False
        return super().apply(*args, **kwargs)


def webhook_task(name: str) -> Callable[[Callable[..., Any]], Task]:
    """The decorator of every webhook delivery task: ``WebhookTransient`` (unreachable, 429,
    5xx) is retried with exponential backoff (``VERDICT_WEBHOOK_BACKOFF_SECONDS``, at most
    600 s apart); the task itself stops after ``VERDICT_WEBHOOK_RETRIES`` retries
    (``webhook_retries_spent``), read when it runs."""
    return shared_task(
        bind=True,
        base=RetryingTask,
        name=name,
        autoretry_for=(WebhookTransient,),
        retry_backoff=settings.VERDICT_WEBHOOK_BACKOFF_SECONDS,
        retry_backoff_max=600,
        retry_jitter=False,
        max_retries=None,
    )


def webhook_retries_spent(task: Task) -> bool:
    """Whether a webhook task has used its ``VERDICT_WEBHOOK_RETRIES`` retries."""
    return task.request.retries >= settings.VERDICT_WEBHOOK_RETRIES


@webhook_task("core.send_webhook")
def send_webhook(self: Any, payload: dict[str, Any], delivery_id: str) -> int | None:
    """POST a payload that no row tracks; transient failures are retried with backoff, a 4xx
    is final. Returns the answer's status, or None when no webhook is configured or every try
    failed."""
    if not webhook_url():
        return None
    try:
        return webhook_post(payload=payload, delivery_id=delivery_id)
    except WebhookRefused as exc:
        logger.warning("webhook %s refused: HTTP %s", delivery_id, exc.status)
        return exc.status
    except WebhookTransient:
        if webhook_retries_spent(self):
            logger.warning(
                "webhook %s not delivered after %s retries", delivery_id, self.request.retries
            )
            return None
        raise
