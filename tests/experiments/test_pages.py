"""What `make run` serves: the home page listing experiments, the admin and the API docs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from experiments.demo import METRICS
from experiments.models import Experiment, Metric


@pytest.fixture
def demo(db: None) -> None:
    call_command("demo", "--no-traffic", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.django_db
def test_demo__run_twice__same_definitions_and_login(demo) -> None:
    call_command("demo", "--no-traffic", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(Experiment.objects.values_list("key", flat=True)) == {
        "pricing-pro-tier",
        "onboarding-checklist",
        "new-user-coupon",
        "checkout-aa",
        "express-checkout",
        "annual-plan-discount",
    }
    assert Metric.objects.count() == len(METRICS) == 11
    pricing = Experiment.objects.get(key="pricing-pro-tier")
    assert pricing.status == "running"
    assert [v.name for v in pricing.variants.all()] == ["Pro at 29", "Pro at 39"]
    assert get_user_model().objects.get(username="admin").check_password("verdict-demo")


@pytest.mark.django_db
def test_home__anonymous__redirects_to_login(client) -> None:
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


@pytest.mark.django_db
def test_home__logged_in__lists_demo_experiments(client, demo) -> None:
    assert client.login(username="admin", password="verdict-demo")
    html = client.get("/", follow=True).content.decode()
    for key in ("pricing-pro-tier", "onboarding-checklist", "new-user-coupon"):
        assert key in html
    assert "Paid conversion" in html


@pytest.mark.django_db
def test_home__htmx_filter__returns_only_the_table(client, demo) -> None:
    client.login(username="admin", password="verdict-demo")
    html = client.get("/experiments/?status=draft", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="experiment-table">')
    assert "annual-plan-discount" in html and "pricing-pro-tier" not in html


@pytest.mark.django_db
def test_home__chinese__headings_translated(client, demo) -> None:
    client.login(username="admin", password="verdict-demo")
    html = client.get("/experiments/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "实验" in html


@pytest.mark.django_db
def test_admin_and_api_docs__served(client, demo) -> None:
    client.login(username="admin", password="verdict-demo")
    assert client.get("/admin/experiments/experiment/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/experiments/{key}/start" in schema.content


@pytest.mark.django_db
def test_admin__started_experiment__randomization_fields_read_only(client, demo) -> None:
    client.login(username="admin", password="verdict-demo")
    pricing = Experiment.objects.get(key="pricing-pro-tier")
    html = client.get(f"/admin/experiments/experiment/{pricing.pk}/change/").content.decode()
    assert 'name="coverage"' not in html and 'name="salt"' not in html
    assert 'name="variants-0-weight"' not in html


@pytest.mark.django_db
def test_admin__invalid_targeting__form_error_and_nothing_saved(demo) -> None:
    from experiments.admin import ExperimentAdminForm

    draft = Experiment.objects.get(key="annual-plan-discount")
    form = ExperimentAdminForm(data={"targeting": '{"country": {"$in": "CN"}}'}, instance=draft)
    assert not form.is_valid()
    assert "country" in str(form.errors["targeting"])
    draft.refresh_from_db()
    assert draft.targeting == {"country": {"$in": ["CN", "SG"]}}
