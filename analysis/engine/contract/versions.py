"""Reading stored results of any schema version into the current typed ``Results``.

- Version 1 (no ``schema_version`` key): results stored before the typed contract. Same
  shape as version 2, except that the earliest snapshots lack ``absolute_effect`` /
  ``absolute_ci`` on variants (read as null) and ``units.excluded.total`` (read as forced +
  multiple variants, which were counted disjointly then).
- Version 2: ``schema_version: 2``. Every outcome was decided on the relative comparison, by
  Welch's t-test (frequentist plans), confidence sequences (sequential) or the posterior
  (Bayesian), and SRM had one level (``mismatch`` at p < 0.001).
- Version 3: ``schema_version: 3``. Comparison rows name their ``test`` and
  ``significance_basis`` (an outcome may rest on the absolute comparison when the relative
  effect cannot be computed, so ``significant`` can be true with a null ``ci``); SRM has a
  ``level`` (``ok`` / ``warning`` / ``error``). Upgrading a version 2 result fills these from
  what decided it then.
- Version 4: ``schema_version: 4``. Decision reasons and health
  messages also come as codes with their values (``decision.reason_codes``, ``health[].code``
  and ``params``) so pages can show them in the reader's language, and each metric has a
  ``status`` (``ok`` / ``values_out_of_range``) and ``out_of_range_units``. Upgrading a version
  3 result gives no codes (``reason_codes: []``, ``code: null``, ``params: {}``; the English
  words are shown) and a null metric ``status`` and ``out_of_range_units`` (not recorded then).
- Version 5: ``schema_version: 5``, read by ``Results.from_dict``. Results store codes and
  values only, never sentences: no ``decision.reasons`` and no health ``message`` (the words
  are rendered when read, by ``analysis.words``). Upgrading a version 4 result drops its
  English words where it has codes; one without codes (upgraded from version 3 or older)
  keeps them as ``decision.stored_reasons`` and health ``stored_message``, shown as they are.
- Version 6: ``schema_version: 6``, read by ``Results.from_dict``. Curve metrics
  (``retention_curve``, ``value_curve``) carry their ``points`` (each a row per variant) and
  the ``headline`` point their ``variants`` report. Other metrics are unchanged (neither key),
  so upgrading a version 5 result only sets the version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from analysis.engine.stats.srm import srm_level

from .metrics import RELATIVE
from .results import RESULTS_SCHEMA_VERSION, Results


class UnknownSchemaVersion(ValueError):
    """Stored results of a schema version this code cannot read (written by a newer one)."""


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    for metric in [*data.get("metrics", []), *data.get("segments", [])]:
        for row in metric.get("variants", []):
            if not row.get("is_control"):
                row.setdefault("absolute_effect", None)
                row.setdefault("absolute_ci", None)
    excluded = data.get("units", {}).get("excluded")
    if excluded is not None and excluded.get("total") is None:
        excluded["total"] = int(excluded.get("forced", 0)) + int(
            excluded.get("multiple_variants", 0)
        )
    data["schema_version"] = 2
    return data


# The test behind a version 2 row's p-value, by the plan's method.
_V2_TESTS = {"frequentist": "welch", "sequential": "confidence_sequence", "bayesian": "bayesian"}


def _upgrade_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    test = _V2_TESTS.get(str(data.get("plan", {}).get("method", "frequentist")))
    for metric in [*data.get("metrics", []), *data.get("segments", [])]:
        for row in metric.get("variants", []):
            if not row.get("is_control"):
                ok = row.get("status") == "ok"
                row.setdefault("test", test if ok else None)
                row.setdefault("significance_basis", RELATIVE if ok else None)
    for srm in [data.get("srm"), *(s.get("srm") for s in data.get("segments", []))]:
        if srm is not None and "level" not in srm:
            level = srm_level(srm.get("p_value"))
            srm["level"] = "error" if srm.get("mismatch") else level
    data["schema_version"] = 3
    return data


def _upgrade_3_to_4(data: dict[str, Any]) -> dict[str, Any]:
    decision = data.get("decision")
    if decision is not None:
        decision.setdefault("reason_codes", [])
    for check in data.get("health", []):
        check.setdefault("code", None)
        check.setdefault("params", {})
    for metric in data.get("metrics", []):
        metric.setdefault("status", None)
        metric.setdefault("out_of_range_units", None)
    data["schema_version"] = 4
    return data


def _upgrade_4_to_5(data: dict[str, Any]) -> dict[str, Any]:
    decision = data.get("decision")
    if decision is not None:
        reasons = decision.pop("reasons", None) or []
        if not decision.get("reason_codes"):
            decision["stored_reasons"] = reasons
    for check in data.get("health", []):
        message = check.pop("message", None) or ""
        if not check.get("code"):
            check["stored_message"] = message
    data["schema_version"] = 5
    return data


def _upgrade_5_to_6(data: dict[str, Any]) -> dict[str, Any]:
    data["schema_version"] = 6
    return data


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
    3: _upgrade_3_to_4,
    4: _upgrade_4_to_5,
    5: _upgrade_5_to_6,
}


def stored_schema_version(data: Mapping[str, Any]) -> int:
    """The schema version of stored results (1 when the key is absent)."""
    return int(data.get("schema_version", 1))


def results_upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored results as a dict of the current schema version (the input is not changed)."""
    version = stored_schema_version(data)
    if version > RESULTS_SCHEMA_VERSION or (
        version < RESULTS_SCHEMA_VERSION and version not in UPGRADES
    ):
        raise UnknownSchemaVersion(
            f"results schema version {version} cannot be read (this Verdict reads versions 1 "
            f"to {RESULTS_SCHEMA_VERSION})"
        )
    out = copy.deepcopy(dict(data))
    while version < RESULTS_SCHEMA_VERSION:
        out = UPGRADES[version](out)
        version = stored_schema_version(out)
    return out


def results_from_stored(data: Mapping[str, Any]) -> Results:
    """Typed results from a ``ResultSnapshot.results`` of any readable schema version."""
    return Results.from_dict(results_upgrade(data))
