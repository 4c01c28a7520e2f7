"""Data sources through the API and the admin: admins only, options write-only everywhere."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from core.actors import Actor
from experiments.models import DataSource
from experiments.services.data_sources import data_source_create
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db
SECRET = "s3cr3t-Value-9f2c1e"
TOKEN = "dapiTOKEN7a7a7a"
URL = "/api/v1/data-sources"
ADMIN_PAGES = "/admin/experiments/datasource/"
BODY = {
    "key": "lake",
    "name": "Lake",
    "kind": "spark",
    "session_url": f"sc://spark.internal:15002/;token={TOKEN}",
    "exposures": "lake.exposures",
    "events": "SELECT event_uuid AS event_id, user_id AS unit_id, name AS event, ts AS timestamp "
    "FROM raw.events",
    "event_columns": {},
    "exposure_columns": {"unit_id": "user_id"},
    "options": {"spark.hadoop.fs.s3a.secret.key": SECRET, "spark.sql.shuffle.partitions": 8},
}


@pytest.fixture(autouse=True)
def _operator_allows(settings) -> None:
    """The Connect host these sources name, as an operator would allow it."""
    settings.VERDICT_SPARK_ALLOWED_HOSTS = ["spark.internal"]


@pytest.fixture
def admin_api(client_for):
    return client_for("admin")


def test_create_get_list__admin_key__201_and_options_names_only(admin_api, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    created = admin_api.post(URL, BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["options"] == {
        "spark.hadoop.fs.s3a.secret.key": "********",
        "spark.sql.shuffle.partitions": "********",
    }
    assert body["session_url"] == "sc://spark.internal:15002/;token=********"
    assert body["exposure_columns"] == {"unit_id": "user_id"}
    assert body["experiments"] == []
    stored = DataSource.objects.get(key="lake")
    assert stored.options == BODY["options"]  # stored as given
    assert stored.session_url == BODY["session_url"]
    answers = [
        created,
        admin_api.get(URL),
        admin_api.get(f"{URL}/lake"),
        admin_api.get("/api/v1/experiments/x/audit"),
    ]
    for response in answers:
        assert SECRET not in response.content.decode()
        assert TOKEN not in response.content.decode()
    assert admin_api.get(URL).json()[0]["key"] == "lake"
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert SECRET not in logged and TOKEN not in logged


@pytest.mark.parametrize("role", ["viewer", "editor", "app", "client", None])
def test_every_operation__non_admin_key__403_or_401_and_nothing_changed(client_for, role) -> None:
    data_source_create(actor=Actor.system(), data={**BODY, "key": "kept"})
    caller = client_for(role)
    answers = [
        caller.get(URL),
        caller.post(URL, BODY, format="json"),
        caller.get(f"{URL}/kept"),
        caller.patch(f"{URL}/kept", {"name": "x"}, format="json"),
        caller.delete(f"{URL}/kept"),
    ]
    assert [r.status_code for r in answers] == [401 if role is None else 403] * 5
    for response in answers:
        assert SECRET not in response.content.decode()
    assert list(DataSource.objects.values_list("key", "name")) == [("kept", "Lake")]


def test_session__admin_role_allowed_editor_staff_refused() -> None:
    editor = User.objects.create_user("ed", password="pw-ed-12345", is_staff=True)
    boss = User.objects.create_user("boss", password="pw-boss-12345")
    boss.groups.add(Group.objects.get_or_create(name="admin")[0])
    client = Client()
    client.force_login(editor)
    assert client.get(URL).status_code == 403
    client.force_login(boss)
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"session_url": "http://spark:15002"}, "session_url"),
        ({"events": "DELETE FROM raw.events"}, "events"),
        ({"exposures": "SELECT 1; SELECT 2"}, "exposures"),
        ({"exposure_columns": {"user": "x"}}, "exposure_columns.user"),
        ({"kind": "oracle"}, "kind"),
        ({"colour": "blue"}, "colour"),
        ({"key": "not a slug"}, "key"),
        ({"options": {"spark.x": [SECRET]}}, "options.spark.x"),
        ({"options": {"spark.x": "a\u0000b"}}, "options"),
        ({"events": "SELECT '\u0000' FROM t"}, "events"),
        ({"exposure_columns": {"unit_id": "a\ud800"}}, "exposure_columns"),
        ({"name": "x\u0000"}, "name"),
        ({"name": 0}, "name"),
        ({"exposures": 12}, "exposures"),
    ],
)
def test_create__bad_input__400_field_named_nothing_stored(admin_api, change, field) -> None:
    # Sent as escaped JSON, so lone surrogates reach the server as a client would send them.
    body = json.dumps({**BODY, **change})
    response = admin_api.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert SECRET not in response.content.decode()
    assert not DataSource.objects.exists()


def test_patch__options_merge_and_name_change__audited_values_hidden(admin_api) -> None:
    admin_api.post(URL, BODY, format="json")
    response = admin_api.patch(
        f"{URL}/lake",
        {
            "name": "Lake 2",
            "options": {"spark.sql.shuffle.partitions": None, "spark.executor.memory": "4g"},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["options"] == {
        "spark.executor.memory": "********",
        "spark.hadoop.fs.s3a.secret.key": "********",
    }
    stored = DataSource.objects.get(key="lake")
    assert stored.name == "Lake 2"
    assert stored.options["spark.hadoop.fs.s3a.secret.key"] == SECRET
    assert admin_api.patch(f"{URL}/lake", {"key": "x"}, format="json").status_code == 400
    assert admin_api.patch(f"{URL}/nope", {"name": "x"}, format="json").status_code == 404


def test_delete__running_experiment_reads_it__400_then_unused__204(admin_api) -> None:
    admin_api.post(URL, BODY, format="json")
    started_experiment(key="pricing", data_source=DataSource.objects.get(key="lake"))
    refused = admin_api.delete(f"{URL}/lake")
    assert refused.status_code == 400
    assert "pricing" in json.dumps(refused.json())
    assert admin_api.get(f"{URL}/lake").json()["experiments"] == ["pricing"]
    admin_api.post(URL, {**BODY, "key": "spare"}, format="json")
    assert admin_api.delete(f"{URL}/spare").status_code == 204
    assert admin_api.get(f"{URL}/spare").status_code == 404


def test_schema__documents_both_paths_and_write_only_options(admin_api) -> None:
    schema = admin_api.get("/api/schema/?format=json").json()
    assert {"/api/v1/data-sources", "/api/v1/data-sources/{key}"} <= set(schema["paths"])
    output = schema["components"]["schemas"]["DataSourceOutput"]["properties"]["options"]
    assert "masked" in output["description"]
    request = schema["components"]["schemas"]["DataSourceInput"]
    assert "options" in request["properties"]
    # The column maps' schema stays theirs: other JSON fields (the audit log's states) are free.
    audit = schema["components"]["schemas"]["AuditOutput"]["properties"]
    assert "event_id" not in json.dumps(audit)


# The admin ---------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def _add_body(**fields) -> dict:
    return {
        "key": "lake",
        "name": "Lake",
        "kind": "spark",
        "session_url": "local[2]",
        "exposures": "lake.exposures",
        "events": "lake.events",
        "exposure_columns": "{}",
        "event_columns": '{"timestamp": "ts"}',
        "new_options": json.dumps({"spark.hadoop.fs.s3a.secret.key": SECRET}),
        **fields,
    }


def test_admin_add__through_service__stored_audited_and_never_rendered(superuser_client) -> None:
    response = superuser_client.post(ADMIN_PAGES + "add/", _add_body(), follow=True)
    assert response.status_code == 200
    stored = DataSource.objects.get(key="lake")
    assert stored.options == {"spark.hadoop.fs.s3a.secret.key": SECRET}
    assert stored.event_columns == {"timestamp": "ts"}
    change = superuser_client.get(f"{ADMIN_PAGES}{stored.pk}/change/")
    page = change.content.decode()
    assert SECRET not in page
    assert "spark.hadoop.fs.s3a.secret.key" in page  # the names are shown
    assert re.search(r'<input type="password" name="new_options"[^>]*>', page)
    assert 'value="' not in re.search(r'<input type="password"[^>]*>', page).group(0)
    assert SECRET not in superuser_client.get(ADMIN_PAGES).content.decode()
    assert SECRET not in superuser_client.get(f"{ADMIN_PAGES}{stored.pk}/history/").content.decode()


def test_admin_change__empty_options_input__stored_options_kept(superuser_client) -> None:
    superuser_client.post(ADMIN_PAGES + "add/", _add_body())
    stored = DataSource.objects.get(key="lake")
    body = _add_body(name="Renamed", new_options="")
    body.pop("key")
    response = superuser_client.post(f"{ADMIN_PAGES}{stored.pk}/change/", body)
    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.name, stored.options) == ("Renamed", {"spark.hadoop.fs.s3a.secret.key": SECRET})
    body = {**body, "clear_options": "on"}
    superuser_client.post(f"{ADMIN_PAGES}{stored.pk}/change/", body)
    stored.refresh_from_db()
    assert stored.options == {}


def test_admin_add__service_refusal__shown_on_field_nothing_saved(superuser_client) -> None:
    response = superuser_client.post(
        ADMIN_PAGES + "add/", _add_body(events="INSERT INTO x SELECT 1")
    )
    assert response.status_code == 200
    assert "INSERT" in " ".join(response.context["adminform"].form.errors["events"])
    assert SECRET not in response.content.decode()
    assert not DataSource.objects.exists()


def test_admin_add__options_not_json__error_without_echo(superuser_client) -> None:
    response = superuser_client.post(ADMIN_PAGES + "add/", _add_body(new_options=SECRET))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_options"]
    assert SECRET not in response.content.decode()


def test_admin_pages__editor_staff__refused(client: Client) -> None:
    editor = User.objects.create_user("ed", password="pw-ed-12345", is_staff=True)
    client.force_login(editor)
    assert client.get(ADMIN_PAGES).status_code == 403
    assert client.get(ADMIN_PAGES + "add/").status_code == 403


def test_experiment_admin__running_with_source__other_edits_saved_source_change_refused(
    superuser_client,
) -> None:
    from tests.experiments.test_admin import page_data

    lake = data_source_create(actor=Actor.system(), data={**BODY, "options": {}})
    other = data_source_create(actor=Actor.system(), data={**BODY, "key": "other"})
    experiment = started_experiment(key="pricing", data_source=lake)
    url = f"/admin/experiments/experiment/{experiment.pk}/change/"
    body = page_data(superuser_client.get(url))
    assert superuser_client.post(url, {**body, "name": "Renamed"}).status_code == 302
    experiment.refresh_from_db()
    assert (experiment.name, experiment.data_source_id) == ("Renamed", lake.pk)
    refused = superuser_client.post(url, {**body, "data_source": str(other.pk)})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors["data_source"]
    assert "cannot change once the experiment has started" in " ".join(errors)
    experiment.refresh_from_db()
    assert experiment.data_source_id == lake.pk
