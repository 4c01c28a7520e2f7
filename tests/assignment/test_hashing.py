"""Tests of the pure hashing core against GrowthBook's conformance cases and its definition."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from assignment.hashing import (
    bucket_ranges,
    choose_variation,
    equal_weights,
    fnv1a32,
    hash_fraction,
    in_layer,
)

CASES = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "growthbook_cases.json").read_text("utf-8")
)


def _ids(cases: list[list], name_index: int | None = 0) -> list[str]:
    return [
        f"{i:02d}-{c[name_index]}" if name_index is not None else str(i)
        for i, c in enumerate(cases)
    ]


# --- conformance cases ---------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "value", "version", "expected"), CASES["hash"])
def test_hash_fraction__conformance_case__matches_growthbook(seed, value, version, expected):
    assert hash_fraction(seed, value, version) == expected


@pytest.mark.parametrize(
    ("name", "args", "expected"), CASES["getBucketRange"], ids=_ids(CASES["getBucketRange"])
)
def test_bucket_ranges__conformance_case__matches_growthbook_to_6_places(name, args, expected):
    num_variations, coverage, weights = args
    ranges = bucket_ranges(num_variations, coverage, weights)
    assert len(ranges) == len(expected)
    for (start, end), (exp_start, exp_end) in zip(ranges, expected, strict=True):
        assert start == pytest.approx(exp_start, abs=1e-6)
        assert end == pytest.approx(exp_end, abs=1e-6)


@pytest.mark.parametrize(
    ("name", "n", "ranges", "expected"),
    CASES["chooseVariation"],
    ids=_ids(CASES["chooseVariation"]),
)
def test_choose_variation__conformance_case__matches_growthbook(name, n, ranges, expected):
    assert choose_variation(n, [tuple(r) for r in ranges]) == expected


@pytest.mark.parametrize(
    ("name", "unit_id", "namespace", "expected"),
    CASES["inNamespace"],
    ids=_ids(CASES["inNamespace"]),
)
def test_in_layer__conformance_case__matches_growthbook_namespace(
    name, unit_id, namespace, expected
):
    layer_key, start, end = namespace
    assert in_layer(unit_id, layer_key, start, end) is expected


@pytest.mark.parametrize(("n", "expected"), CASES["getEqualWeights"])
def test_equal_weights__conformance_case__matches_growthbook_to_8_places(n, expected):
    assert [round(w, 8) for w in equal_weights(n)] == expected


# --- known values and edge cases ------------------------------------------------------------


def test_hash_fraction__known_version_2_value__is_0_0505():
    assert hash_fraction("seed", "a") == 0.0505


def test_hash_fraction__known_version_1_value__is_0_22():
    assert hash_fraction("", "a", 1) == 0.22


@pytest.mark.parametrize("version", [0, 3, 99, -1])
def test_hash_fraction__unknown_version__is_none(version):
    assert hash_fraction("abc", "def", version) is None


def test_fnv1a32__empty_string__is_offset_basis():
    assert fnv1a32("") == 0x811C9DC5


def test_choose_variation__no_ranges__is_minus_one():
    assert choose_variation(0.5, []) == -1


def test_bucket_ranges__zero_variations__is_empty():
    assert bucket_ranges(0) == []


# --- non-ASCII ids, from the definition -----------------------------------------------------


def _reference_fnv1a32(s: str) -> int:
    """Straightforward FNV-1a over UTF-16 code units: unpack little-endian 16-bit words."""
    h = 0x811C9DC5
    for (unit,) in struct.iter_unpack("<H", s.encode("utf-16-le", "surrogatepass")):
        h = ((h ^ unit) * 0x01000193) % 2**32
    return h


def _reference_hash(seed: str, unit_id: str, version: int) -> float:
    if version == 2:
        return (_reference_fnv1a32(str(_reference_fnv1a32(seed + unit_id))) % 10000) / 10000
    return (_reference_fnv1a32(unit_id + seed) % 1000) / 1000


# Pinned values, also checked against a JavaScript FNV-1a that reads String.charCodeAt().
PINNED_FNV = [
    ("用户42", 2898790666),
    ("user😀", 3395561191),
    ("😀", 3409036472),
    ("é", 1812687940),
    ("ユーザー", 1415304117),
]
PINNED_HASH = [
    ("pricing", "用户42", 2, 0.6091),
    ("pricing", "user😀", 2, 0.3422),
    ("onboarding", "顾客-7", 2, 0.6992),
    ("😀", "😀", 2, 0.0499),
    ("pricing", "用户42", 1, 0.94),
    ("pricing", "user😀", 1, 0.859),
    ("onboarding", "顾客-7", 1, 0.116),
]


@pytest.mark.parametrize(("text", "expected"), PINNED_FNV)
def test_fnv1a32__non_ascii_text__matches_reference_and_pinned_value(text, expected):
    assert _reference_fnv1a32(text) == expected
    assert fnv1a32(text) == expected


@pytest.mark.parametrize(("seed", "unit_id", "version", "expected"), PINNED_HASH)
def test_hash_fraction__non_ascii_id__matches_reference_and_pinned_value(
    seed, unit_id, version, expected
):
    assert _reference_hash(seed, unit_id, version) == expected
    assert hash_fraction(seed, unit_id, version) == expected


def test_fnv1a32__emoji__hashes_two_surrogate_units_not_one_code_point():
    h = 0x811C9DC5
    for code_point in map(ord, "user😀"):  # the wrong way: one step per code point
        h = ((h ^ code_point) * 0x01000193) % 2**32
    assert fnv1a32("user😀") != h
    assert fnv1a32("user😀") == fnv1a32("user\ud83d\ude00")  # the surrogate pair, spelled out


def test_fnv1a32__lone_surrogate__hashes_as_one_unit():
    assert fnv1a32("\ud83d") == _reference_fnv1a32("\ud83d")


@given(st.text(max_size=40), st.text(max_size=40))
def test_hash_fraction__any_text__matches_reference_implementation(seed, unit_id):
    assert hash_fraction(seed, unit_id) == _reference_hash(seed, unit_id, 2)
    assert hash_fraction(seed, unit_id, 1) == _reference_hash(seed, unit_id, 1)


# --- properties -----------------------------------------------------------------------------


@given(st.text(max_size=30), st.text(max_size=60), st.sampled_from([1, 2]))
def test_hash_fraction__same_inputs__same_value_in_unit_interval(seed, unit_id, version):
    first = hash_fraction(seed, unit_id, version)
    assert first == hash_fraction(seed, unit_id, version)
    assert first is not None
    assert 0.0 <= first < 1.0


@pytest.mark.parametrize(("version", "bins"), [(2, 20), (1, 10)])
def test_hash_fraction__100000_ids__uniform_by_chi_square(version, bins):
    counts = [0] * bins
    for i in range(100_000):
        counts[int(hash_fraction("uniformity-seed", f"user-{i}", version) * bins)] += 1
    assert chisquare(counts).pvalue > 0.001


weights_strategy = st.integers(min_value=2, max_value=5).flatmap(
    lambda n: st.lists(st.floats(min_value=0.05, max_value=1.0), min_size=n, max_size=n).map(
        lambda ws: [w / sum(ws) for w in ws]
    )
)


@settings(max_examples=200)
@given(
    weights_strategy,
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.text(min_size=1, max_size=20),
)
def test_bucket_ranges__coverage_raised__assigned_unit_keeps_variant(weights, c1, c2, unit_id):
    low, high = sorted((c1, c2))
    n = hash_fraction("coverage-seed", unit_id)
    before = choose_variation(n, bucket_ranges(len(weights), low, weights))
    after = choose_variation(n, bucket_ranges(len(weights), high, weights))
    if before != -1:
        assert after == before


@given(weights_strategy, st.floats(min_value=-1.0, max_value=2.0))
def test_bucket_ranges__any_weights_and_coverage__ranges_ordered_disjoint_within_unit_interval(
    weights, coverage
):
    ranges = bucket_ranges(len(weights), coverage, weights)
    previous_end = 0.0
    for start, end in ranges:
        assert previous_end - 1e-12 <= start <= end <= 1.0 + 1e-12
        previous_end = end


@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=3, max_size=6, unique=True),
    st.text(max_size=20),
    st.text(min_size=1, max_size=30),
)
def test_in_layer__disjoint_slices__unit_in_at_most_one(cuts, layer_key, unit_id):
    points = sorted(cuts)
    slices = list(zip(points, points[1:], strict=False))
    memberships = [in_layer(unit_id, layer_key, start, end) for start, end in slices]
    assert sum(memberships) <= 1
    if points[0] == 0.0 and points[-1] == 1.0:
        assert sum(memberships) == 1  # slices covering [0, 1) hold every unit exactly once
