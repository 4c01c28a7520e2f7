"""Bounded JSON input (core.json_input): depth measured without recursion, the too-deep field
named the same way whether the body could be parsed or not."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from core.json_input import (
    NON_FIELD,
    BoundedJSONParser,
    JsonTooDeep,
    json_loads,
    too_deep_field_in_text,
    too_deep_fields,
)
from core.limits import MAX_JSON_DEPTH, json_depth_exceeds


def _nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_json_depth_exceeds__at_and_over_the_limit() -> None:
    assert not json_depth_exceeds(_nested(MAX_JSON_DEPTH))
    assert json_depth_exceeds(_nested(MAX_JSON_DEPTH + 1))
    assert not json_depth_exceeds(1)
    assert json_depth_exceeds(_nested(100_000))  # no recursion


def test_json_loads__too_deep_to_parse__json_too_deep_a_value_error() -> None:
    with pytest.raises(JsonTooDeep) as raised:
        json_loads("[" * 100_000 + "]" * 100_000)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == "Nested more than 32 levels deep."
    assert json_loads("[[1]]") == [[1]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"variants":[{"key":"a","payload":' + "[" * 100_000 + "]" * 100_000 + "}]}", None),
        ('{"targeting":' + '{"$and":[' * 50_000 + "{}" + "]}" * 50_000 + "}", "targeting"),
        ("[" * 100_000 + "]" * 100_000, NON_FIELD),
        ('{"a":"[[[[{","b":' + "[" * 40 + "]" * 40 + "}", "b"),
    ],
)
def test_parser__body_too_deep__validation_error_naming_the_field(
    body: str, field: str | None
) -> None:
    with pytest.raises(serializers.ValidationError) as raised:
        BoundedJSONParser().parse(io.BytesIO(body.encode()), "application/json", {})
    assert raised.value.detail == {
        (field or "variants[0].payload"): ["Nested more than 32 levels deep."]
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}:,', max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='ab"\\[]{}', max_size=3), inner, max_size=3)
    ),
    max_leaves=60,
)


@settings(max_examples=300)
@given(value=JSON, depth=st.integers(min_value=0, max_value=40))
def test_field_in_text__same_field_as_the_parsed_check(value: Any, depth: int) -> None:
    """Text the parser could read is named as the parsed body's check names it (strings that
    look like JSON included), so the answer does not depend on whether parsing failed."""
    body = {"x": value, "deep": [{"payload": _nested(depth)}, value]}
    text = json.dumps(body)
    found = too_deep_fields(json.loads(text))
    if found:
        assert too_deep_field_in_text(text) in found
    else:
        assert too_deep_field_in_text(text) == NON_FIELD
