"""The calculator's "paste your numbers": the report's p-value and interval bar for pasted arms,
checked against scipy; errors next to the fields; HTMX live update and the plain form post."""

from __future__ import annotations

import math
import re

import pytest
from scipy import stats as sps

from tests.console.helpers import client_as

pytestmark = pytest.mark.django_db
URL = "/calculator/"


def _p(html: str) -> float:
    match = re.search(r'id="paste-p" data-p="([^"]+)"', html)
    assert match, "no p-value on the page"
    return float(match.group(1))


def _post(client, data: dict, *, htmx: bool = False) -> str:  # noqa: ANN001
    if htmx:
        response = client.post(f"{URL}?part=paste", data, HTTP_HX_REQUEST="true")
    else:
        response = client.post(URL, data)
    assert response.status_code == 200
    return response.content.decode()


def test_paste__rates__p_value_is_welch_on_the_difference_as_in_the_report() -> None:
    html = _post(
        client_as("viewer"),
        {"p_kind": "rate", "c_users": "2000", "c_conv": "200", "t_users": "2100", "t_conv": "262"},
    )
    pc, pt, nc, nt = 200 / 2000, 262 / 2100, 2000, 2100
    # The engine: Welch's test with the unit variance p(1 - p) of each arm.
    welch = sps.ttest_ind_from_stats(
        pt, math.sqrt(pt * (1 - pt)), nt, pc, math.sqrt(pc * (1 - pc)), nc, equal_var=False
    ).pvalue
    assert _p(html) == pytest.approx(welch, rel=1e-9)
    # The two-proportion z-test (unpooled), computed here: the same to the 4 decimals shown
    # (Welch's t with ~4,000 degrees of freedom against the normal).
    z = (pt - pc) / math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    assert _p(html) == pytest.approx(2 * sps.norm.sf(abs(z)), abs=1e-4)
    assert ">0.0120</strong>" in html  # shown to 4 decimals
    assert "↑ better" in html and "Welch" in html
    assert 'value="262"' in html  # a plain form post keeps what was typed


def test_paste__means__p_value_equals_scipy_welch_from_stats() -> None:
    data = {
        "p_kind": "mean",
        "c_mean": "12.5",
        "c_sd": "30.1",
        "c_n": "1500",
        "t_mean": "14.9",
        "t_sd": "33.7",
        "t_n": "1450",
    }
    html = _post(client_as("viewer"), data)
    expected = sps.ttest_ind_from_stats(14.9, 33.7, 1450, 12.5, 30.1, 1500, equal_var=False).pvalue
    assert _p(html) == pytest.approx(expected, rel=1e-9)
    assert "+19.20%" in html  # 14.9 / 12.5 - 1


def test_paste__few_conversions__fishers_exact_test_like_the_report() -> None:
    html = _post(
        client_as("viewer"),
        {"p_kind": "rate", "c_users": "20", "c_conv": "0", "t_users": "20", "t_conv": "5"},
        htmx=True,
    )
    expected = sps.fisher_exact([[5, 15], [0, 20]]).pvalue
    assert _p(html) == pytest.approx(expected, rel=1e-9)
    assert "Fisher" in html


def test_paste__lower_is_better_and_an_increase__worse() -> None:
    html = _post(
        client_as("viewer"),
        {
            "p_kind": "rate",
            "p_direction": "lower",
            "c_users": "5000",
            "c_conv": "100",
            "t_users": "5000",
            "t_conv": "200",
        },
    )
    assert "↓ worse" in html and "tone-worse" in html


def test_paste__bad_numbers__errors_next_to_their_fields() -> None:
    client = client_as("viewer")
    html = _post(client, {"p_kind": "rate", "c_users": "100", "c_conv": "120", "t_users": "1"})
    assert "Conversions cannot exceed users." in html.split('id="paste-err-c_conv"')[1][:200]
    assert "At least 2 users (n ≥ 2)." in html.split('id="paste-err-t_users"')[1][:200]
    assert 'id="paste-p"' not in html
    data = {"p_kind": "mean", "c_mean": "1", "c_sd": "-2", "c_n": "1", "t_mean": "x"}
    html = _post(client, data)
    assert "cannot be negative" in html.split('id="paste-err-c_sd"')[1][:200]
    assert "At least 2 units (n ≥ 2)." in html.split('id="paste-err-c_n"')[1][:200]
    assert "Enter a number." in html.split('id="paste-err-t_mean"')[1][:200]


def test_paste__htmx__result_and_error_lists_only() -> None:
    html = _post(
        client_as("viewer"),
        {"p_kind": "rate", "c_users": "100", "c_conv": "120", "t_users": "100", "t_conv": "5"},
        htmx=True,
    )
    assert html.lstrip().startswith('<div id="paste-result"')
    assert 'name="c_users"' not in html  # what is typed is never replaced
    assert 'id="paste-err-c_conv" hx-swap-oob="true"><li>Conversions cannot exceed' in html
    assert 'id="paste-err-t_users" hx-swap-oob="true"></ul>' in html


def test_paste__page__form_posts_without_js_and_updates_as_you_type() -> None:
    html = client_as("viewer").get(URL).content.decode()
    form = html.split('id="paste-form"')[0].rsplit("<form", 1)[1] + html.split('id="paste-form"')[1]
    assert 'method="post"' in form and 'hx-trigger="input changed delay:300ms' in form
    assert "csrfmiddlewaretoken" in form
    assert "Type each arm" in html
    embedded = client_as("editor").get(f"{URL}?embed=1").content.decode()
    assert 'id="paste-form"' not in embedded
