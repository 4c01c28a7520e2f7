"""Browser tests: Debian's chromium driven by Playwright, against a live server.

Never a downloaded browser: ``executable_path`` is ``/usr/bin/chromium`` (``.ci/run`` installs
it with apt, with ``fonts-noto-cjk`` so Chinese renders). Every request to another host fails
the test: pages load nothing from elsewhere. Screenshots go to ``.screenshots/`` (ignored by
git); with ``VERDICT_SCREENSHOTS=docs`` they replace the ones kept in ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("VERDICT_SCREENSHOTS") == "docs"
    else ROOT / ".screenshots"
)
PASSWORD = "e2e-password-1"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
                item.add_marker(pytest.mark.skip(reason="needs Debian's chromium package"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per test module: Playwright's sync API owns an event loop while it runs,
    and tests elsewhere that start their own must not find it still running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh page (1280 wide) that fails the test if anything is fetched from another host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def route(route: Any) -> None:
        if urlparse(route.request.url).hostname in ("localhost", "127.0.0.1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    new_page = context.new_page()
    new_page.set_default_timeout(15_000)
    yield new_page
    context.close()
    assert outside == [], f"pages fetched from other hosts: {outside}"


def make_user(username: str, role: str) -> Any:
    """A person with a web role (the Django group of that name); admins are superusers."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username, email=f"{username}@example.com", password=PASSWORD
    )
    if role == "admin":
        user.is_staff = user.is_superuser = True
        user.save()
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    return user


def login(page: Any, base_url: str, username: str, language: str = "en") -> None:
    """Sign in through the login form, in the given interface language."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as <name>.png in ``SCREENSHOTS``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
