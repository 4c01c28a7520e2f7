"""The readout (复盘) in a real browser, in English and 简体中文: the demo's pricing experiment is
stopped, concluded through the dialog with its learnings, lands on the readout (hypothesis,
expected and actual effects, decision, economics, learnings), and prints to PDF with nothing
cut off at the page's edge. Screenshots and PDFs go to ``.screenshots/``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.actors import Actor
from experiments.models import Experiment
from experiments.services.lifecycle import experiment_transition
from tests.e2e.conftest import SCREENSHOTS, login, make_user, screenshot
from tests.e2e.test_report import _catalogue_with_pending
from tests.e2e.test_report_economics import _demo

pytestmark = pytest.mark.django_db(transaction=True)

LEARNINGS = "Pro at 39 loses too many upgrades; test 34 next, with annual plans shown first."
# An A4 page at 96 dpi less the 12 mm side margins of readout.css: 186 mm.
PRINT_WIDTH = round(186 / 25.4 * 96)


def _stopped_demo() -> Experiment:
    exp = _demo()
    Experiment.objects.filter(pk=exp.pk).update(expected_effect="+8% revenue per user")
    return experiment_transition(actor=Actor.system("e2e"), experiment=exp, action="stop")


def _overflowing(page: Any) -> list[str]:
    """Elements of the readout whose right edge passes the printed page's content width."""
    page.set_viewport_size({"width": PRINT_WIDTH, "height": 1100})
    page.emulate_media(media="print")
    found = page.evaluate(
        """(width) => [...document.querySelectorAll('.readout *')]
          .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
          .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))""",
        PRINT_WIDTH,
    )
    page.emulate_media(media="null")  # back to the browser's own: print when printing
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def _pdf(page: Any, name: str) -> Path:
    """The page printed as the browser would save it (A4, print styles); its pages as PNGs when
    poppler's pdftoppm is installed, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.pdf"
    page.pdf(path=str(path), format="A4", print_background=True)
    assert path.read_bytes().startswith(b"%PDF")
    for old in SCREENSHOTS.glob(f"{name}-page-*.png"):
        old.unlink()
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(path), str(SCREENSHOTS / f"{name}-page")],
            check=True,
        )
    return path


def _pdf_text(path: Path) -> str | None:
    if not shutil.which("pdftotext"):
        return None
    done = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True)
    return done.stdout.decode()


def test_readout__concluded_with_learnings__whole_review_and_prints_without_cut_off(
    page, live_server, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _stopped_demo()
    make_user("mei", "editor")
    login(page, live_server.url, "mei")

    page.goto(f"{live_server.url}/experiments/{exp.key}/actions/conclude/")
    page.check("input[name=decision][value=keep_control]")
    page.fill("textarea[name=learnings]", LEARNINGS)
    assert "readout" in page.locator("#confirm-panel").inner_text()
    screenshot(page, "readout-conclude-dialog")
    page.click("button[name=confirm]")
    page.wait_for_url(f"**/experiments/{exp.key}/readout/")
    readout = page.locator("article.readout")
    text = readout.inner_text()
    assert "At 39 a month instead of 29" in page.locator("#plan").inner_text()
    assert "+8% revenue per user" in page.locator("#plan").inner_text()
    actual = page.locator("#actual").inner_text()
    assert "Paid conversion" in actual and "%" in actual and "[" in actual
    assert "Keep control" in page.locator("#decision").inner_text()
    assert "Scaled impact" in page.locator("#economics").inner_text()
    assert LEARNINGS in page.locator("#learnings").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert "Start" in timeline and "Stop" in timeline and "Conclude" in timeline
    for heading in ("Guardrails", "Health", "Timeline", "Learnings"):
        assert heading in text
    screenshot(page, "readout")

    assert _overflowing(page) == []
    pdf = _pdf(page, "readout")
    printed = _pdf_text(pdf)
    if printed is not None:
        for words in ("At 39 a month", "+8% revenue per user", "Keep control", "Scaled impact"):
            assert words in printed
        assert "test 34 next" in printed
        assert "Save the learnings" not in printed  # forms and buttons stay on screen

    # The list and the experiment page lead to it.
    page.goto(f"{live_server.url}/experiments/")
    page.click(f"a.readout-link[href='/experiments/{exp.key}/readout/']")
    page.wait_for_url(f"**/experiments/{exp.key}/readout/")
    page.goto(f"{live_server.url}/experiments/{exp.key}/")
    page.click("#experiment-header a.readout-link")
    page.wait_for_url(f"**/experiments/{exp.key}/readout/")

    # An editor changes the learnings on the readout itself.
    page.fill("#id_learnings", LEARNINGS + " Annual first won.")
    page.click("#learnings button[type=submit]")
    page.wait_for_url(f"**/experiments/{exp.key}/readout/#learnings")
    assert "Annual first won." in page.locator(".learnings-text").inner_text()


def test_readout__zh_hans__chinese_throughout_and_prints(
    page, live_server, settings, tmp_path
) -> None:
    settings.LOCALE_PATHS = [_catalogue_with_pending(tmp_path)]
    exp = _stopped_demo()
    make_user("li", "editor")
    login(page, live_server.url, "li", language="zh-hans")
    page.goto(f"{live_server.url}/experiments/{exp.key}/actions/conclude/")
    page.check("input[name=decision][value=keep_control]")
    page.fill("textarea[name=learnings]", "39 元流失太多升级；下次测试 34 元。")
    dialog = page.locator("#confirm-panel").inner_text()
    assert "学到了什么" in dialog and "复盘" in dialog and "预期效果" in dialog
    screenshot(page, "readout-conclude-dialog-zh-hans")
    page.click("button[name=confirm]")
    page.wait_for_url(f"**/experiments/{exp.key}/readout/")
    text = page.locator("article.readout").inner_text()
    for words in ("复盘", "我们的预期", "预期效果", "实际发生了什么", "决策", "经济效益", "时间线"):
        assert words in text, words
    assert "39 元流失太多升级" in text
    for english in ("What we expected", "What happened", "Timeline", "Learnings", "Recorded"):
        assert english not in text, english
    screenshot(page, "readout-zh-hans")
    assert _overflowing(page) == []
    pdf = _pdf(page, "readout-zh-hans")
    printed = _pdf_text(pdf)
    if printed is not None:
        assert "下次测试 34 元" in printed
