"""Creating and editing layers on the layers page: the services' rules, roles and audit."""

from __future__ import annotations

import pytest

from experiments.models import AuditLogEntry, Layer
from tests.console.helpers import client_as
from tests.factories import LayerFactory, ready_experiment

pytestmark = pytest.mark.django_db


def test_list__editor__new_layer_button_and_an_edit_link_per_layer() -> None:
    LayerFactory(key="checkout", name="Checkout")
    html = client_as("editor").get("/layers/").content.decode()
    assert 'href="/layers/new/"' in html
    assert 'href="/layers/checkout/edit/"' in html
    assert "Create them with the API" not in html


def test_list__viewer__no_create_or_edit_controls() -> None:
    LayerFactory(key="checkout", name="Checkout")
    html = client_as("viewer").get("/layers/").content.decode()
    assert 'href="/layers/new/"' not in html
    assert "/edit/" not in html


def test_list__no_layers__editor_gets_a_link_to_create_the_first() -> None:
    html = client_as("editor").get("/layers/").content.decode()
    assert "Create the first layer" in html


def test_create__editor__saved_audited_and_back_on_the_list() -> None:
    response = client_as("editor").post(
        "/layers/new/", {"key": "checkout", "name": "Checkout", "description": "Cart and pay"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/layers/#layer-checkout"
    layer = Layer.objects.get(key="checkout")
    assert (layer.name, layer.description) == ("Checkout", "Cart and pay")
    entry = AuditLogEntry.objects.get(object_type="layer", action="create")
    assert (entry.object_key, entry.actor_label) == ("checkout", "editor-1")


def test_create__taken_key__service_message_next_to_the_key() -> None:
    LayerFactory(key="checkout")
    response = client_as("editor").post("/layers/new/", {"key": "checkout", "name": "Other"})
    html = response.content.decode()
    assert response.status_code == 400
    key_field = html.split('for="layer-key"')[1].split("</div>")[0]
    assert "A layer with key &quot;checkout&quot; exists." in key_field
    assert 'aria-invalid="true"' in key_field
    assert Layer.objects.count() == 1
    assert 'value="Other"' in html  # what was typed stays


@pytest.mark.parametrize(
    ("post", "field"),
    [({"key": "check out", "name": "Checkout"}, "key"), ({"key": "checkout", "name": ""}, "name")],
)
def test_create__bad_field__error_next_to_that_field_and_nothing_saved(post, field) -> None:
    response = client_as("editor").post("/layers/new/", post)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="err-{field}"' in html
    assert not Layer.objects.exists()


def test_edit__editor__name_and_description_change_key_stays_audited() -> None:
    layer = LayerFactory(key="checkout", name="Checkout")
    ready_experiment(key="cart-copy", layer=layer)
    editor = client_as("editor")
    page = editor.get("/layers/checkout/edit/").content.decode()
    assert 'value="Checkout"' in page and "readonly" in page
    assert "cart-copy" in page  # the experiments in it
    response = editor.post(
        "/layers/checkout/edit/", {"key": "renamed", "name": "Checkout flow", "description": "x"}
    )
    assert response.status_code == 302
    layer.refresh_from_db()
    assert (layer.key, layer.name, layer.description) == ("checkout", "Checkout flow", "x")
    entry = AuditLogEntry.objects.get(object_type="layer", action="update")
    assert entry.before["name"] == "Checkout" and entry.after["name"] == "Checkout flow"


def test_edit__unknown_layer__404() -> None:
    assert client_as("editor").get("/layers/nope/edit/").status_code == 404


def test_forms__viewer_forces_the_url__403_page_in_the_frame_and_nothing_saved() -> None:
    LayerFactory(key="checkout", name="Checkout")
    viewer = client_as("viewer")
    for url in ("/layers/new/", "/layers/checkout/edit/"):
        response = viewer.get(url)
        html = response.content.decode()
        assert response.status_code == 403
        assert 'class="topbar"' in html  # the site's frame, with its navigation
        assert "Viewers cannot create or change layers." in html
    assert viewer.post("/layers/new/", {"key": "x", "name": "X"}).status_code == 403
    assert viewer.post("/layers/checkout/edit/", {"name": "X"}).status_code == 403
    assert Layer.objects.get().name == "Checkout"
    assert not AuditLogEntry.objects.exists()


def test_create__chinese__labels_in_chinese() -> None:
    html = client_as("editor").get("/layers/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "New layer" not in html
    assert "新建层" in html
