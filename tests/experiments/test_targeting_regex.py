"""``$regex`` patterns that could backtrack catastrophically: refused on save, harmless at
assign time (issue #21), while the patterns GrowthBook users write keep working."""

from __future__ import annotations

import logging
import time

import pytest
from django.utils import translation

from experiments.models import Experiment
from experiments.targeting import eval_condition, validate_condition
from experiments.targeting.jsregex import (
    MAX_PATTERN_LENGTH,
    MAX_REPEAT,
    MAX_SUBJECT_LENGTH,
    JSRegexError,
    UnsafeRegexError,
    check_js_regex,
    js_regex_search,
)
from tests.experiments.catalogue import catalogue_with_pending
from tests.experiments.test_api import BODY, _body, _create

CATASTROPHIC = [
    "(a+)+",
    "(a+)+$",
    "^(a+)+$",
    "(a*)*",
    "(a*)*b",
    "(a|a)*",
    "(a|aa)+",
    "(a|aa)+$",
    "(.*a){20}",
    "(.*a){2,}",
    "(\\w+\\s?)*$",
    "^([a-zA-Z0-9]+)*@",
    "(x+x+)+y",
    "(a+;a*)+$",
    "(\\d|\\d\\d)+$",
    "(?:[a-z]+|[0-9a-z]+)*!",
    "(a{1,5}){1,5}$",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
    "(?:x(?:[a-z]{1,10}\\.){1,10}y)+",  # "y" and "x" are letters too: labels can swallow them
    "a?" * 30 + "a" * 30,
    "(?:a?){30}",
    "(a|aa){30}",
    "(a?|b?)" * 20,
]

ORDINARY = [
    "^[a-z]{2}$",
    "^(SG|MY|CN)$",
    "\\d+\\.\\d+",
    "^user_[0-9]+@example\\.com$",
    "(Mobile|Tablet)",
    "-12-25$",
    "^ping",
    "^staff-",
    "^(\\d{1,3}\\.){3}\\d{1,3}$",
    "^v?\\d+(\\.\\d+)*$",
    "^([a-z]+,)*[a-z]+$",
    "Mozilla/5\\.0 .*Chrome/(\\d+)",
    "^.*foo.*$",
    "(?<major>\\d+)\\.(?<minor>\\d+)",
    "[^\\s@]+@[^\\s@]+",
    "^(?:\\+?86)?1[3-9]\\d{9}$",
    "\\bpro\\b",
    "[]|x",
    "[^]",
    "a{0,100}",
    "(a?)+b",  # an iteration that matched nothing is not repeated
    "Mozilla.*Chrome.*Safari",
    "\\d+\\.\\d+\\.\\d+\\.\\d+",  # the dots keep the repetitions apart
    "iPhone|iPad|Android.*Mobile",
    "^(?:[a-z0-9-]{1,63}\\.){1,10}[a-z]{2,6}$",
    "(?:ab|cd|ef)" * 10,
    "^\\s*\\w+\\s*=\\s*\\w+\\s*$",
    "^\\d{4}-?\\d{2}-?\\d{2}$",
    "(?:a|b|c|d|e|f|g|h|i|j){0,100}",
]


# --- the static check ------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_check_js_regex__catastrophic_backtracking__refused(pattern):
    with pytest.raises(UnsafeRegexError) as refused:
        check_js_regex(pattern)
    assert "exponential time" in str(refused.value)


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_check_js_regex__catastrophic_case_insensitive__refused(pattern):
    with pytest.raises(UnsafeRegexError):
        check_js_regex(pattern, insensitive=True)


@pytest.mark.parametrize("pattern", ORDINARY)
def test_check_js_regex__ordinary_pattern__accepted(pattern):
    check_js_regex(pattern)
    check_js_regex(pattern, insensitive=True)


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(a)\\1", "backreference"),
        ("(?<x>a)\\k<x>", "backreference"),
        ("^(?!bot)", "lookahead or lookbehind"),
        ("(?<=@)example", "lookahead or lookbehind"),
        ("x(?=y)", "lookahead or lookbehind"),
        ("a{101}", f"at most {MAX_REPEAT}"),
        ("[0-9]{2,500}", f"at most {MAX_REPEAT}"),
        ("(a{5,}){200}", f"at most {MAX_REPEAT}"),
        ("(?:[^,]{0,100},){0,20}", "2000 times (counts of nested parts multiply); at most 1000"),
        ("x" * (MAX_PATTERN_LENGTH + 1), f"longer than {MAX_PATTERN_LENGTH}"),
        (".*a.*a.*b", "3 repetitions in a row can share the same characters"),
        ("\\w+a\\w+a\\w+b", "3 repetitions in a row"),
        (".*Mozilla.*Chrome.*Safari", "a leading or trailing .* is not needed"),
    ],
)
def test_check_js_regex__unsupported_feature__refused_with_reason(pattern, words):
    with pytest.raises(UnsafeRegexError) as refused:
        check_js_regex(pattern)
    assert words in str(refused.value)


def test_check_js_regex__longest_allowed_pattern__accepted():
    check_js_regex("x" * MAX_PATTERN_LENGTH)


def test_check_js_regex__invalid_syntax__still_invalid_not_unsafe():
    with pytest.raises(JSRegexError) as invalid:
        check_js_regex("(Mobile")
    assert not isinstance(invalid.value, UnsafeRegexError)


# --- the validator: message next to the field, translated -----------------------------------


def test_validate_condition__catastrophic_regex__problem_at_the_operator():
    [problem] = validate_condition({"country": {"$regex": "(a+)+$"}})
    assert problem.startswith("country.$regex: regular expression '(a+)+$' can take exponential")
    assert problem.path == "country.$regex"
    assert problem.params["pattern"] == "'(a+)+$'"


def test_validate_condition__lookahead__problem_suggests_not():
    [problem] = validate_condition({"ua": {"$regexi": "^(?!.*bot)"}})
    assert problem.startswith("ua.$regexi: regular expression '^(?!.*bot)' uses a lookahead")
    assert "$not" in problem


@pytest.mark.django_db
def test_validate_condition__catastrophic_regex_in_chinese__translated(settings, tmp_path):
    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    conditions = [
        {"country": {"$regex": "(a+)+$"}},
        {"country": {"$regex": "(a)\\1"}},
        {"country": {"$regex": "(?=a)"}},
        {"country": {"$regex": "a{500}"}},
        {"country": {"$regex": "a" * 300}},
        {"country": {"$regex": "a?" * 30}},
        {"country": {"$regex": ".*a.*a.*b"}},
    ]
    with translation.override("zh-hans"):
        for condition in conditions:
            [problem] = validate_condition(condition)
            text = problem.translated(translation.gettext)
            assert text.startswith("country.$regex: 正则表达式"), text
            assert "regular expression" not in text


# --- evaluation: linear time, same answers ---------------------------------------------------


def test_eval_condition__catastrophic_stored_pattern__no_match_in_milliseconds():
    condition = {"country": {"$regex": "(a+)+$"}}
    start = time.perf_counter()
    matched = eval_condition({"country": "a" * 25 + "!"}, condition)
    elapsed = time.perf_counter() - start
    assert matched is False
    assert elapsed < 0.5  # a backtracking matcher takes about 10 s here


def test_eval_condition__catastrophic_stored_pattern__still_matches_what_it_should():
    condition = {"country": {"$regex": "(a+)+$"}}
    assert eval_condition({"country": "baaaa"}, condition) is True


def test_eval_condition__refused_stored_pattern__warns_once(caplog):
    pattern = "(b+)+c$"  # not used by any other test: the warning is per process and pattern
    with caplog.at_level(logging.WARNING, logger="experiments.targeting.jsregex"):
        for _ in range(3):
            assert js_regex_search(pattern, "b" * 40) is False
    warnings = [r for r in caplog.records if pattern in r.getMessage()]
    assert len(warnings) == 1
    assert "exponential" in warnings[0].getMessage()


def test_eval_condition__stored_lookahead__no_match():
    # Stored before lookarounds were refused: the linear-time matcher cannot run it.
    assert eval_condition({"ua": "bot"}, {"ua": {"$regex": "^(?!human)"}}) is False


def test_eval_condition__subject_over_the_limit__no_match():
    assert eval_condition({"a": "x" * MAX_SUBJECT_LENGTH}, {"a": {"$regex": "x$"}}) is True
    assert eval_condition({"a": "x" * (MAX_SUBJECT_LENGTH + 1)}, {"a": {"$regex": "x$"}}) is False


def test_eval_condition__catastrophic_polynomial_pattern__linear_time():
    # Quadratic or worse for a backtracking matcher, accepted because such patterns are common.
    condition = {"ua": {"$regex": ".*a.*a.*a.*b"}}
    start = time.perf_counter()
    assert eval_condition({"ua": "a" * MAX_SUBJECT_LENGTH}, condition) is False
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a\\sb", "a\u00a0b", True),  # JavaScript's \s includes no-break space
        ("a\\sb", "a\ufeffb", True),  # and the byte order mark
        ("a\\sb", "a\x1cb", False),  # but not the file separator
        ("^[^\\S\\n]+$", " \t\u3000", True),  # whitespace other than newline
        ("^[^\\S\\n]+$", " \n", False),
        ("^[\\S]+$", "ab\u00e9", True),
        ("^[\\D]$", "\u0663", True),  # \D includes non-ASCII digits in JavaScript
        ("^\\w$", "\u00e9", False),  # \w is ASCII-only
        ("a{,5}", "a{,5}", True),  # not a quantifier in JavaScript: literal text
        ("a{,5}", "a", False),
        ("x{2}", "xx", True),
        ("^.$", "\u2028", False),
        ("^[^]$", "\n", True),
        ("^\\u00e9$", "\u00e9", True),
        ("^\\ud83d\\ude00$", "\U0001f600", True),  # a surrogate pair is one character here
        ("^\\cJ$", "\n", True),
        ("^\\e$", "e", True),
        ("^a\\ b$", "a b", True),
        ("x$", "x\n", False),
    ],
)
def test_js_regex_search__javascript_semantics__kept(pattern, subject, expected):
    check_js_regex(pattern)
    assert js_regex_search(pattern, subject) is expected


def test_js_regex_search__lone_surrogate_in_subject__no_crash():
    assert js_regex_search("^a.b$", "a\ud800b") is True


# --- the API: 400 naming the field ------------------------------------------------------------


@pytest.mark.django_db
def test_create__catastrophic_regex_targeting__400_names_targeting(editor, metrics):
    response = _create(editor, _body(targeting={"country": {"$regex": "(a+)+$"}}))
    assert response.status_code == 400
    errors = response.json()
    assert "targeting" in errors, errors
    assert "exponential time" in str(errors["targeting"])
    assert not Experiment.objects.exists()


@pytest.mark.django_db
def test_create__ordinary_regex_targeting__201(editor, metrics):
    body = _body(targeting={"country": {"$regex": "^(SG|MY|CN)$"}})
    response = _create(editor, body)
    assert response.status_code == 201, response.json()
    assert response.json()["targeting"] == body["targeting"]
    assert BODY["targeting"] != body["targeting"]


@pytest.fixture
def metrics(db: None) -> None:
    from tests.factories import MetricFactory

    MetricFactory(key="paid_conversion")
    MetricFactory(key="arpu", type="mean", value_field="revenue")


# --- the web form: the message next to the field ----------------------------------------------


@pytest.mark.django_db
def test_form__catastrophic_regex_in_chinese__message_next_to_targeting(settings, tmp_path):
    from tests.console.experiment_form.test_experiment_form import post_data
    from tests.experiments.test_service_messages_i18n import _editor, _field_block

    settings.LOCALE_PATHS = [catalogue_with_pending(tmp_path)]
    targeting = '{"country": {"$regex": "(a+)+$"}}'
    response = _editor("zh-hans").post("/experiments/new/", post_data(targeting=targeting))
    assert response.status_code == 200
    block = _field_block(response.content.decode(), "id_targeting")
    assert "country.$regex: 正则表达式 &#x27;(a+)+$&#x27; 匹配可能耗费指数级时间" in block
    assert not Experiment.objects.exists()
