"""Tests of the pure targeting core: GrowthBook's conformance cases and the validator's messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.targeting import eval_condition, validate_condition

CASES = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "growthbook_cases.json").read_text("utf-8")
)["evalCondition"]

# Conformance conditions that evaluate as GrowthBook says but that the validator rejects on
# purpose, because they can never do what their author meant.
INTENTIONALLY_INVALID = {
    "$in - not array",
    "$nin - not array",
    "$ini - not array",
    "$nini - not array",
    "unknown operator - pass",
    "$regex invalid - pass",
    "$regex invalid - fail",
}


# --- conformance ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}-{c[0]}" for i, c in enumerate(CASES)])
def test_eval_condition__conformance_case__matches_growthbook(case):
    name, condition, attributes, expected, *rest = case
    saved_groups = rest[0] if rest else None
    assert eval_condition(attributes, condition, saved_groups=saved_groups) is expected


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}-{c[0]}" for i, c in enumerate(CASES)])
def test_validate_condition__conformance_condition__valid_unless_known_mistake(case):
    name, condition = case[0], case[1]
    errors = validate_condition(condition)
    if name in INTENTIONALLY_INVALID:
        assert errors
    else:
        assert errors == []


# --- evaluator: behaviour beyond the cases --------------------------------------------------


def test_eval_condition__empty_condition__matches_everything():
    assert eval_condition({}, {}) is True
    assert eval_condition({"country": "CN"}, {}) is True


def test_eval_condition__issue_example__matches_cn_user_on_new_version():
    condition = {"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.2.0"}}
    assert eval_condition({"country": "CN", "app_version": "3.10.1"}, condition) is True
    assert eval_condition({"country": "CN", "app_version": "3.1.9"}, condition) is False
    assert eval_condition({"country": "US", "app_version": "3.10.1"}, condition) is False


def test_eval_condition__list_condition__raises_type_error():
    with pytest.raises(TypeError):
        eval_condition({}, [{"country": "CN"}])  # type: ignore[arg-type]


def test_eval_condition__array_index_in_path__reads_element():
    assert eval_condition({"tags": ["a", "b"]}, {"tags.1": "b", "tags.length": 2}) is True


def test_eval_condition__missing_attribute_and_string_null__match_like_javascript():
    # `value + ""` turns a missing (null) attribute into "null" in GrowthBook's evaluator.
    assert eval_condition({}, {"name": "null"}) is True


def test_eval_condition__number_condition_on_numeric_string__matches():
    assert eval_condition({"age": "42"}, {"age": 42}) is True
    assert eval_condition({"age": "42 years"}, {"age": 42}) is False


def test_eval_condition__regex_dollar__does_not_match_before_trailing_newline():
    assert eval_condition({"a": "x\n"}, {"a": {"$regex": "x$"}}) is False
    assert eval_condition({"a": "x"}, {"a": {"$regex": "x$"}}) is True


def test_eval_condition__regex_digit_class__is_ascii_only_like_javascript():
    assert eval_condition({"a": "\u0663"}, {"a": {"$regex": "^\\d$"}}) is False  # Arabic three
    assert eval_condition({"a": "3"}, {"a": {"$regex": "^\\d$"}}) is True


def test_eval_condition__regexi_non_ascii__matches_case_insensitively():
    assert eval_condition({"city": "ZÜRICH"}, {"city": {"$regexi": "^zürich$"}}) is True


def test_eval_condition__elem_match_on_falsy_elements__skips_them_like_growthbook():
    assert eval_condition({"n": [0, 1]}, {"n": {"$elemMatch": {"$eq": 0}}}) is False
    assert eval_condition({"n": [0, 1]}, {"n": {"$elemMatch": {"$eq": 1}}}) is True


def test_eval_condition__saved_group_missing__in_group_false_not_in_group_true():
    assert eval_condition({"id": 1}, {"id": {"$inGroup": "beta"}}) is False
    assert eval_condition({"id": 1}, {"id": {"$notInGroup": "beta"}}) is True


def test_eval_condition__strings_beyond_bmp__ordered_by_utf16_units_like_javascript():
    # JavaScript compares UTF-16 code units: the surrogate 0xD83D of an emoji sorts below U+FFFF,
    # although the emoji's code point (U+1F600) is above it.
    assert eval_condition({"s": "\U0001f600"}, {"s": {"$lt": "\uffff"}}) is True
    assert eval_condition({"v": "1.0.0-\U0001f600"}, {"v": {"$vlt": "1.0.0-\uffff"}}) is True


def test_eval_condition__deeply_nested_condition__false_instead_of_recursion_error():
    condition: dict = {"a": 1}
    for _ in range(5000):
        condition = {"$and": [condition]}
    assert eval_condition({"a": 1}, condition) is False


# --- validator messages ---------------------------------------------------------------------


def test_validate_condition__valid_condition__no_errors():
    condition = {
        "country": {"$in": ["CN", "SG"]},
        "app_version": {"$vgte": "3.2.0"},
        "$or": [{"is_new_user": True}, {"member_tier": {"$ne": "gold"}}],
        "channel": {"$regexi": "^(ads|organic)$"},
        "tags": {"$elemMatch": {"$eq": "vip"}, "$size": {"$gt": 0}},
        "orders": {"$elemMatch": {"total": {"$gte": 100}}},
    }
    assert validate_condition(condition) == []


def test_validate_condition__empty_object__no_errors():
    assert validate_condition({}) == []


@pytest.mark.parametrize("condition", [[], "country", None, 3])
def test_validate_condition__top_level_not_object__explains(condition):
    [error] = validate_condition(condition)
    assert error.startswith("expected a JSON object at the top level")


def test_validate_condition__in_not_list__points_at_operator():
    assert validate_condition({"country": {"$in": "CN"}}) == [
        "country.$in: expected a list, got string"
    ]


def test_validate_condition__unknown_operator_inside_or__names_index():
    assert validate_condition({"$or": [{"a": 1}, {"$foo": 1}]}) == [
        '$or[1]: unknown operator "$foo"'
    ]


def test_validate_condition__misspelt_operator__suggests_the_right_one():
    assert validate_condition({"name": {"$regx": "x"}}) == [
        'name: unknown operator "$regx" (did you mean "$regex"?)'
    ]


def test_validate_condition__version_number__asks_for_version_string():
    assert validate_condition({"app_version": {"$vgte": 3.2}}) == [
        'app_version.$vgte: expected a version string such as "3.2.0", got number'
    ]


def test_validate_condition__invalid_regex__says_invalid_regular_expression():
    [error] = validate_condition({"ua": {"$regex": "(Mobile"}})
    assert error.startswith("ua.$regex: invalid regular expression '(Mobile': ")


def test_validate_condition__python_only_inline_flag__rejected_with_hint():
    [error] = validate_condition({"ua": {"$regex": "(?i)mobile"}})
    assert error.startswith("ua.$regex: invalid regular expression")
    assert "$regexi" in error


def test_validate_condition__nested_path__full_location():
    condition = {"$and": [{"a": 1}, {"$or": [{"b": {"$type": "int"}}]}]}
    [error] = validate_condition(condition)
    assert error.startswith('$and[1].$or[0].b.$type: expected one of "array", "boolean"')


def test_validate_condition__logical_operator_not_list__explains():
    assert validate_condition({"$and": {"a": 1}}) == [
        "$and: expected a list of conditions, got object"
    ]


def test_validate_condition__value_operator_at_condition_level__needs_attribute():
    [error] = validate_condition({"$in": ["CN"]})
    assert error.startswith('operator "$in" must be applied to an attribute')


def test_validate_condition__mixed_operator_and_plain_keys__rejected():
    [error] = validate_condition({"a": {"$in": [1], "b": 2}})
    assert error.startswith('a: mixes operators ("$in") with plain keys')


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"a": {"$exists": 1}}, "a.$exists: expected true or false, got number"),
        ({"a": {"$gt": [1]}}, "a.$gt: expected a number or a string, got list"),
        ({"a": {"$size": -1}}, "a.$size: expected a non-negative integer"),
        ({"a": {"$elemMatch": 3}}, "a.$elemMatch: expected a non-empty object, got number"),
        ({"a": {"$in": [[1]]}}, "a.$in[0]: a list in $in never matches"),
        ({"a": {"$all": "x"}}, "a.$all: expected a list, got string"),
        ({"a": {"$eq": {"b": 1}}}, "a.$eq: expected a string, number, boolean or null, got object"),
        ({"a": {"$inGroup": 5}}, "a.$inGroup: expected a saved group id (a string), got number"),
        ({"a..b": 1}, 'invalid attribute path "a..b": empty part between dots'),
        ({"a": float("nan")}, "a: numbers must be finite, got nan"),
        ({"a": {"$not": {"$in": 1}}}, "a.$not.$in: expected a list, got number"),
        ({"$not": {"a": {"$vlt": ""}}}, '$not.a.$vlt: expected a version string such as "3.2.0"'),
    ],
)
def test_validate_condition__bad_operator_argument__message_with_path(condition, expected):
    [error] = validate_condition(condition)
    assert error.startswith(expected)


def test_validate_condition__several_problems__reports_each():
    errors = validate_condition({"a": {"$in": 1}, "b": {"$regex": "["}, "$or": [{"$x": 1}]})
    assert len(errors) == 3


def test_validate_condition__too_deep__reports_depth_instead_of_crashing():
    condition: dict = {"a": 1}
    for _ in range(100):
        condition = {"$and": [condition]}
    [error] = validate_condition(condition)
    assert "nested more than" in error
