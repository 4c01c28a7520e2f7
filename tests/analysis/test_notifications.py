"""Notifications: email and a signed webhook (a real local HTTP server), once per condition."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from analysis.models import Notification
from analysis.services.notifications import snapshot_notify
from analysis.services.snapshots import experiment_refresh
from tests.analysis.helpers import T0, Data, experiment_with, metric

H = dt.timedelta(hours=1)
SECRET = "s3cret"


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with the queued status codes."""

    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("pm", email="pm@example.com")


@pytest.fixture
def webhook_settings(settings):
    settings.VERDICT_WEBHOOK_SECRET = SECRET
    settings.VERDICT_WEBHOOK_RETRIES = 2
    settings.VERDICT_WEBHOOK_BACKOFF_SECONDS = 0.01
    return settings


def _srm_experiment(owner):
    """Control got twice the units of treatment: a sample ratio mismatch."""
    exp = experiment_with([(metric("conv"), "primary")], owner=owner)
    d = Data(exp)
    for i in range(150):
        d.expose(f"u{i}", "control" if i % 3 else "treatment", T0)
    d.save()
    return exp


def _notify(snapshot, capture):
    """snapshot_notify as the refresh task runs it: webhooks go out once the commit is done."""
    with capture(execute=True):
        return snapshot_notify(snapshot=snapshot)


def test_notify__health_problem__email_and_signed_webhook_once(
    db: None, owner, webhook_settings, django_capture_on_commit_callbacks
) -> None:
    exp = _srm_experiment(owner)
    capture = django_capture_on_commit_callbacks
    with Receiver() as hook:
        webhook_settings.VERDICT_WEBHOOK_URL = hook.url
        first = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
        sent = _notify(first, capture)
        later = experiment_refresh(experiment=exp, as_of=T0 + 20 * H)
        again = _notify(later, capture)
    assert [n.condition for n in sent] == ["phase-1:health:srm"]
    assert again == []
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pm@example.com"]
    assert "Sample ratio mismatch" in mail.outbox[0].body
    assert len(hook.calls) == 1
    call = hook.calls[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["X-Verdict-Signature"] == expected
    payload = json.loads(call["body"])
    assert payload["experiment"] == exp.key
    assert payload["condition"] == "phase-1:health:srm"
    assert payload["snapshot_id"] == first.id
    note = Notification.objects.get()
    assert note.email_sent_at is not None and note.webhook_sent_at is not None


def test_notify__webhook_errors_then_ok__retried_until_delivered(
    db: None, owner, webhook_settings, django_capture_on_commit_callbacks
) -> None:
    exp = _srm_experiment(owner)
    with Receiver(statuses=[500, 503]) as hook:
        webhook_settings.VERDICT_WEBHOOK_URL = hook.url
        snapshot = experiment_refresh(experiment=exp, as_of=T0 + 10 * H)
        _notify(snapshot, django_capture_on_commit_callbacks)
    assert len(hook.calls) == 3
    assert len({c["headers"]["X-Verdict-Delivery"] for c in hook.calls}) == 1
    note = Notification.objects.get()
    assert (note.webhook_attempts, note.webhook_status) == (3, 200)


def test_notify__webhook_down__kept_and_delivered_with_a_later_snapshot(
    db: None, owner, webhook_settings, django_capture_on_commit_callbacks
) -> None:
    exp = _srm_experiment(owner)
    capture = django_capture_on_commit_callbacks
    with Receiver() as hook:
        url = hook.url
    webhook_settings.VERDICT_WEBHOOK_URL = url  # the server is closed now: refused
    _notify(experiment_refresh(experiment=exp, as_of=T0 + 10 * H), capture)
    note = Notification.objects.get()
    assert note.webhook_sent_at is None and note.webhook_attempts == 3 and note.webhook_error
    assert len(mail.outbox) == 1
    with Receiver() as hook:
        webhook_settings.VERDICT_WEBHOOK_URL = hook.url
        _notify(experiment_refresh(experiment=exp, as_of=T0 + 20 * H), capture)
    assert len(hook.calls) == 1
    assert Notification.objects.get().webhook_sent_at is not None
    assert len(mail.outbox) == 1  # the email was not sent again


def test_notify__webhook_answers_4xx__final_and_not_sent_with_later_snapshots(
    db: None, owner, webhook_settings, django_capture_on_commit_callbacks
) -> None:
    exp = _srm_experiment(owner)
    capture = django_capture_on_commit_callbacks
    with Receiver(statuses=[410]) as hook:
        webhook_settings.VERDICT_WEBHOOK_URL = hook.url
        _notify(experiment_refresh(experiment=exp, as_of=T0 + 10 * H), capture)
        _notify(experiment_refresh(experiment=exp, as_of=T0 + 15 * H), capture)
        _notify(experiment_refresh(experiment=exp, as_of=T0 + 20 * H), capture)
    assert len(hook.calls) == 1  # neither retried nor re-sent with the later snapshots
    note = Notification.objects.get()
    assert (note.webhook_attempts, note.webhook_status) == (1, 410)
    assert note.webhook_sent_at is None and "410" in note.webhook_error


def test_webhook_task__retries__use_celery_backoff_not_a_sleep(webhook_settings) -> None:
    from analysis.tasks import deliver_notification_webhook
    from core.notifications import WebhookTransient

    assert deliver_notification_webhook.autoretry_for == (WebhookTransient,)
    assert deliver_notification_webhook.retry_backoff


def test_notify__decision_reached__owner_told_once_through_the_refresh_task(
    db: None, owner, django_capture_on_commit_callbacks
) -> None:
    from analysis.tasks import refresh_experiment

    exp = experiment_with([(metric("conv"), "primary")], owner=owner)
    d = Data(exp)
    for i in range(400):
        variant = "treatment" if i % 2 else "control"
        d.expose(f"u{i}", variant, T0)
        if (variant == "treatment" and i % 5 < 3) or (variant == "control" and i % 10 == 0):
            d.event(f"u{i}", T0 + H)
    d.save()
    for hours in (10, 20):
        with django_capture_on_commit_callbacks(execute=True):
            refresh_experiment.delay(exp.id, (T0 + hours * H).isoformat())
    notes = list(Notification.objects.values_list("condition", flat=True))
    assert notes == ["phase-1:decision:ship:treatment"]
    assert len(mail.outbox) == 1
    assert "decision reached: ship treatment" in mail.outbox[0].subject
