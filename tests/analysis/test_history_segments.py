"""Segments from each unit's history before exposure (``analysis.aggregation.history``): on
generated histories, each unit's new/returning, RFM, RFM group and spend tier, and the
per-segment statistics, SRM and corrected p-values, against an independent computation in the
test (numpy, scipy, statsmodels on the same generated data). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analysis.aggregation import experiment_inputs
from analysis.aggregation.history import history_spec, history_tiers_sql
from analysis.aggregation.inputs import metric_specs
from analysis.aggregation.query import DatabaseRunner, Scope, unit_table
from analysis.aggregation.source import source
from analysis.engine.results import results_compute
from analysis.engine.stats import ENGINE_VERSION
from analysis.services.snapshots import experiment_plan
from tests.analysis.helpers import T0, Data, experiment_with, metric

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
AS_OF = T0 + 12 * DAY
LOOK_BACK = 30
CONFIG = {
    "kinds": ["new_vs_returning", "rfm", "spend_tier"],
    "days": LOOK_BACK,
    "value_event": "purchase",
    "value_field": "revenue",
    "new_attribute": "is_new",
}
N = 360


def _tier(scores: np.ndarray, members: np.ndarray) -> list[str | None]:
    """Tertiles by the share of members with a strictly lower score (ties together)."""
    inside = np.sort(scores[members])
    n = inside.size
    out: list[str | None] = []
    for s, m in zip(scores, members, strict=True):
        if not m:
            out.append(None)
            continue
        below = int(np.searchsorted(inside, s, side="left"))
        out.append("low" if 3 * below < n else "mid" if 3 * below < 2 * n else "high")
    return out


def _group(r: str, f: str, m: str) -> str:
    if r == "low":
        return "at_risk"
    score = {"low": 1, "mid": 2, "high": 3}
    if f != "low" and m != "low" and score[f] + score[m] >= 5:
        return "champions"
    return "regulars"


def _generate(experiment: Any, rng: np.random.Generator) -> dict[str, Any]:
    """Exposures and events; returns per-unit arrays the test computes from."""
    data = Data(experiment)
    units, variants, t0s, hist_n, recency, spend, value = [], [], [], [], [], [], []
    new_attr: list[bool | None] = []
    for i in range(N):
        unit = f"u{i:04d}"
        variant = "treatment" if rng.random() < 0.5 else "control"
        t0 = T0 + dt.timedelta(minutes=int(rng.integers(0, 6 * 24 * 60)))
        attrs: dict[str, Any] = {"country": ["CN", "US"][i % 2]}
        flag: bool | None = None
        if i % 7 == 0:  # the app says new or returning for some units
            flag = bool(rng.random() < 0.5)
            attrs["is_new"] = flag if i % 14 == 0 else ("new" if flag else "returning")
        data.expose(unit, variant, t0, attributes=attrs)
        kind = rng.integers(0, 4)  # 0: no history at all
        n_in, last, paid = 0, None, 0.0
        if kind:
            for _ in range(int(rng.integers(1, 9))):
                ago = dt.timedelta(minutes=int(rng.integers(1, LOOK_BACK * 24 * 60)))
                name = ["app_open", "purchase", "view"][int(rng.integers(0, 3))]
                revenue = float(rng.integers(1, 80))
                props = {"revenue": revenue} if name == "purchase" else {}
                data.event(unit, t0 - ago, name, properties=props)
                n_in += 1
                last = t0 - ago if last is None or t0 - ago > last else last
                paid += revenue if name == "purchase" else 0.0
        # Outside the look-back or after exposure: not history.
        data.event(unit, t0 - (LOOK_BACK * DAY + HOUR), "purchase", properties={"revenue": 500})
        revenue_after = float(rng.integers(1, 50)) * (rng.random() < 0.4 + 0.1 * (kind > 1))
        if revenue_after:
            data.event(unit, t0 + HOUR, "purchase", properties={"revenue": revenue_after})
        units.append(unit)
        variants.append(variant)
        t0s.append(t0)
        hist_n.append(n_in)
        days = None if last is None else (t0.date() - last.date()).days
        recency.append(days)
        spend.append(paid)
        value.append(revenue_after)
        new_attr.append(flag)
    data.save()
    return {
        "unit": units,
        "variant": np.array(variants),
        "n": np.array(hist_n),
        "recency": recency,
        "spend": np.array(spend),
        "value": np.array(value),
        "new_attr": new_attr,
    }


def _expected(g: dict[str, Any]) -> dict[str, list[str]]:
    has = g["n"] > 0
    rec = np.array([-(r if r is not None else 0) for r in g["recency"]], dtype=float)
    r = _tier(rec, has)
    f = _tier(g["n"].astype(float), has)
    m = _tier(g["spend"], has)
    s = _tier(g["spend"], g["spend"] > 0)
    out: dict[str, list[str]] = {
        "new_vs_returning": [],
        "rfm": [],
        "rfm_group": [],
        "spend_tier": [],
    }
    for i in range(len(has)):
        flag = g["new_attr"][i]
        nvr = ("new" if flag else "returning") if flag is not None else None
        out["new_vs_returning"].append(nvr or ("returning" if has[i] else "new"))
        if has[i]:
            out["rfm"].append(f"{r[i]}.{f[i]}.{m[i]}")
            out["rfm_group"].append(_group(r[i], f[i], m[i]))  # type: ignore[arg-type]
        else:
            out["rfm"].append("no_history")
            out["rfm_group"].append("no_history")
        out["spend_tier"].append(s[i] or "no_spend")
    return out


@pytest.fixture
def generated() -> tuple[Any, dict[str, Any]]:
    arpu = metric("hist_arpu", "mean", event="purchase", value_field="revenue", window_hours=72)
    experiment = experiment_with(
        [(arpu, "primary")],
        history_segments=CONFIG,
        segment_correction="bh",
    )
    g = _generate(experiment, np.random.default_rng(25))
    return experiment, g


def test_history_segments__generated_histories__each_units_tiers_match_numpy(generated) -> None:
    experiment, g = generated
    spec = history_spec(experiment.history_segments)
    assert spec is not None
    runner = DatabaseRunner()
    scope = Scope(experiment.id, experiment.phase, AS_OF)
    with unit_table(runner, scope, metric_specs(experiment)) as table:
        src = source()
        tiers = history_tiers_sql(src.exposures, src.events, table, spec)
        x = src.exposures
        names, rows = runner.rows(
            f'SELECT e."{x.unit_id}" AS unit, h.* FROM ({tiers}) AS h'
            f' JOIN "{x.table}" AS e ON e."{x.id}" = h.exposure_id'
        )
    got = {r[0]: dict(zip(names, r, strict=True)) for r in rows}
    want = _expected(g)
    assert len(got) == N
    for i, unit in enumerate(g["unit"]):
        row = got[unit]
        assert row["n_hist"] == g["n"][i]
        assert (row["recency"] if g["n"][i] else None) == g["recency"][i]
        assert float(row["spend"]) == pytest.approx(g["spend"][i])
        for dim in want:
            assert row[dim] == want[dim][i], (unit, dim)
    # Every tier is used.
    assert {v.split(".")[0] for v in want["rfm"]} >= {"low", "mid", "high", "no_history"}
    assert set(want["rfm_group"]) == {"champions", "regulars", "at_risk", "no_history"}


def test_history_segments__generated_histories__segment_stats_srm_and_bh_match_scipy(
    generated,
) -> None:
    experiment, g = generated
    inputs = experiment_inputs(experiment=experiment, as_of=AS_OF)
    results = results_compute(
        inputs=inputs.to_dict(),
        plan=experiment_plan(experiment),
        computed_at=AS_OF.isoformat(),
        engine_version=ENGINE_VERSION,
    )
    want = _expected(g)
    segments = [s for s in results["segments"] if s["attribute"].startswith("history:")]
    assert {s["attribute"] for s in segments} == {f"history:{d}" for d in want}
    for dim, labels in want.items():
        labels_a = np.array(labels)
        family = [s for s in segments if s["attribute"] == f"history:{dim}"]
        assert {s["value"] for s in family} == set(labels)
        raw = []
        for seg in family:
            inside = labels_a == seg["value"]
            counts = [int(np.sum(inside & (g["variant"] == v))) for v in ("control", "treatment")]
            assert seg["units"] == sum(counts)
            # SRM: chi-square against the 50/50 split.
            if min(counts) > 0:
                expected_p = sps.chisquare(counts).pvalue
                assert seg["srm"]["p_value"] == pytest.approx(expected_p, rel=1e-9)
            for v in seg["variants"]:
                mask = inside & (g["variant"] == v["variant"])
                assert v["units"] == int(mask.sum())
                if mask.any():
                    assert v["mean"] == pytest.approx(g["value"][mask].mean(), rel=1e-9)
                if not v["is_control"] and v.get("p_value_unadjusted") is not None:
                    raw.append((v["p_value_unadjusted"], v["p_value"]))
            assert seg["corrected"] is True
        if raw:
            adjusted = multipletests([p for p, _ in raw], method="fdr_bh")[1]
            for (_, got), want_p in zip(raw, adjusted, strict=True):
                assert got == pytest.approx(want_p, rel=1e-9)


def test_history_segments__none_chosen__no_history_segments(generated) -> None:
    experiment, _ = generated
    experiment.history_segments = {}
    experiment.save()
    inputs = experiment_inputs(experiment=experiment, as_of=AS_OF)
    assert not [s for s in inputs.segments if s.attribute.startswith("history:")]
    assert [s for s in inputs.segments if s.attribute == "country"]


def test_history_segments__srm_words__name_the_dimension_and_value_in_words() -> None:
    from django.utils import translation

    from analysis.engine.codes import HealthCode, ReasonCode
    from analysis.words.health import MESSAGES
    from analysis.words.reasons import REASONS

    item = {
        "value": "high.mid.low",
        "observed": {"control": 300, "treatment": 180},
        "expected": {"control": 240, "treatment": 240},
        "p": 1e-8,
        "p_adjusted": 3e-8,
        "units": 480,
    }
    alarm = {"attribute": "history:rfm", "items": [item], "count": 1, "family_size": 28}
    reason = {"attribute": "history:rfm_group", "value": "at_risk", "p": 1e-9, "units": 480}
    with translation.override("en"):
        warning = MESSAGES[HealthCode.SEGMENT_SRM_WARNING](alarm)
        held = REASONS[ReasonCode.SEGMENT_SRM_ERROR](reason)
    assert "within RFM tier: R high · F mid · M low: observed" in warning
    assert "RFM group = At risk" in held
    with translation.override("zh-hans"):
        held = REASONS[ReasonCode.SEGMENT_SRM_ERROR](reason)
    assert "RFM 分组 = 流失风险" in held


def test_history_segments__sqlite_plan__events_and_units_found_by_index(generated) -> None:
    # On SQLite (nested-loop joins) a unit's history must be found through the events' name
    # index and the per-unit table's exposure index: a scan per unit made the demo's 100,000
    # units take hours.
    from dataclasses import replace

    from django.db import connection

    from analysis.aggregation.history import event_names
    from analysis.aggregation.render import render

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL joins these by hash")
    experiment, _ = generated
    runner = DatabaseRunner()
    scope = Scope(experiment.id, experiment.phase, AS_OF)
    with unit_table(runner, scope, metric_specs(experiment)) as table:
        src = source()
        spec = history_spec(experiment.history_segments)
        spec = replace(spec, event_names=event_names(runner, src.events))
        assert spec.event_names
        sql = render(history_tiers_sql(src.exposures, src.events, table, spec), runner.dialect)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = [str(row[-1]) for row in cursor.fetchall()]
    assert any(step.startswith("SEARCH ev USING INDEX event_name_unit_idx") for step in plan)
    assert not any(step == "SCAN t" for step in plan), plan
