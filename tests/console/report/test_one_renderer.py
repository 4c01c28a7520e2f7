"""One renderer (analysis.words): the API's English messages, the owner's email and the webhook
payload say the very words the renderer produces for the snapshot's codes (issue 22); the
report page and its print view say the renderer's words with names for keys and numbers in
each metric's format (issue 23)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.core import mail
from django.utils import translation

from analysis.models import Notification
from analysis.selectors import snapshot_results
from analysis.services.notifications import snapshot_notify
from analysis.services.snapshots import experiment_refresh
from analysis.words import decision_reasons, health_message, labels_of
from console.report.views import metric_formats
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.console.helpers import client_as

H = dt.timedelta(hours=1)


@pytest.fixture
def snapshot(db: None, django_user_model):
    """Conversion up for the treatment, and refunds up too: keep the control, with a
    guardrail health error and a decision the owner is told about."""
    owner = django_user_model.objects.create_user("pm", email="pm@example.com")
    refunds = metric("refunds", event="refund", higher_is_better=False)
    exp = experiment_with(
        [(metric("conv"), "primary"), (refunds, "guardrail")], key="one-renderer", owner=owner
    )
    d = Data(exp)
    for i in range(400):
        treated = i % 2 == 1
        d.expose(f"u{i}", "treatment" if treated else "control", T0)
        if (treated and i % 3 != 0) or (not treated and i % 5 == 0):
            d.event(f"u{i}", T0 + H)
        if treated and i % 4 == 1:
            d.event(f"u{i}", T0 + H, name="refund")
    d.save()
    return experiment_refresh(experiment=exp, as_of=T0 + 10 * H)


def test_api_page_print_email_and_webhook__one_renderer__the_same_words(snapshot, viewer) -> None:
    results = snapshot_results(snapshot=snapshot)
    labels = labels_of(results, metric_formats(snapshot.experiment))
    with translation.override("en"):
        reasons = decision_reasons(results.decision)
        messages = [health_message(h) for h in results.health]
        page_reasons = decision_reasons(results.decision, labels)
        page_messages = [health_message(h, labels) for h in results.health]
    assert results.decision.recommendation == "keep_control"
    assert any(m.startswith("Guardrail refunds is significantly worse") for m in messages)

    body = viewer.get(f"/api/v1/experiments/{snapshot.experiment.key}/results").json()
    assert body["decision"]["reasons"] == reasons
    assert [h["message"] for h in body["health"]] == messages

    client = client_as("viewer", "reader")
    page = html.unescape(client.get(f"/experiments/{snapshot.experiment.key}/results/").text)
    printed = html.unescape(
        client.get(f"/experiments/{snapshot.experiment.key}/results/{snapshot.pk}/print/").text
    )
    for sentence in page_reasons + page_messages:
        assert sentence in page, sentence
        assert sentence in printed, sentence

    notes = snapshot_notify(snapshot=snapshot)
    emails = {m.subject: m.body for m in mail.outbox}
    sent = {n.condition: n for n in Notification.objects.filter(pk__in=[n.pk for n in notes])}
    decision = sent["phase-1:decision:keep_control"]
    assert emails[decision.subject] == " ".join(reasons) == decision.payload["message"]
    (guardrail,) = [n for c, n in sent.items() if ":health:guardrail_worse:" in c]
    assert emails[guardrail.subject] == messages[0] == guardrail.payload["message"]
