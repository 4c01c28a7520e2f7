"""``$regex`` matches as JavaScript does: random patterns and texts, compared with Node.js's
``RegExp`` (the engine GrowthBook's JavaScript SDK uses). Skipped where Node.js is missing."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest

from experiments.targeting.jsregex import (
    JSRegexError,
    UnsafeRegexError,
    check_js_regex,
    js_regex_search,
)

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js")

ATOMS = [
    *("a", "b", "x", "A", "k", "s", "-", " ", "é", "\u00a0", "\u2028", "{", "}", "]"),
    *(".", "^", "$", "\\d", "\\w", "\\s", "\\S", "\\D", "\\W", "\\b", "\\B", "\\bz"),
    *("[ab]", "[^a]", "[a-c]", "[\\d_]", "[^\\s]", "[\\S]", "[^\\S\\n]", "[\\W]", "[\\b]"),
    *("[^]", "[]", "[\\u00e0-\\u00ff]", "[\\1]"),
    *("\\.", "\\n", "\\t", "\\v", "\\f", "\\cJ", "\\c1", "\\0", "\\01", "\\8", "\\x41", "\\x"),
    *("\\u00e9", "\\u12", "\\ufeff", "\\e", "\\/", "\\-", "a{,2}"),
]
QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "*?", "+?", "{0,2}"]
TEXT = [
    *("a", "b", "A", "x", "é", "É", "-", ".", "_", " ", "\t", "\n", "0", "1", "Z", "z", "k"),
    *("K", "s", "S", "e", "/", "{", "}", "]", "\u00a0", "\ufeff", "\u2028", "\x0b", "\x0c"),
    *("\x08", "\x00", "\x01", "\x1c"),
]


def _pattern(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.15 and depth < 2:
            inner = "|".join(_pattern(rng, depth + 1) for _ in range(rng.randint(1, 3)))
            opener = rng.choice(["(", "(?:", f"(?<g{rng.randint(0, 999)}>"])
            parts.append(opener + inner + ")" + rng.choice(QUANTIFIERS))
        else:
            parts.append(rng.choice(ATOMS) + rng.choice(QUANTIFIERS))
    return "".join(parts)


_NODE_SCRIPT = """
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(cases.map(c => {
  try { const r = new RegExp(c.p, c.i ? 'i' : ''); return c.s.map(s => r.test(s)); }
  catch (e) { return null; }
})));
"""


def test_js_regex_search__random_patterns__same_answers_and_errors_as_node():
    rng = random.Random(21)
    cases = []
    for _ in range(400):
        pattern, insensitive = _pattern(rng), rng.random() < 0.3
        texts = ["".join(rng.choice(TEXT) for _ in range(rng.randint(0, 6))) for _ in range(12)]
        try:
            check_js_regex(pattern, insensitive)
            verdict = "ok"
        except UnsafeRegexError:
            verdict = "refused"
        except JSRegexError:
            verdict = "invalid"
        cases.append({"p": pattern, "i": insensitive, "s": texts, "verdict": verdict})
    answer = subprocess.run(
        [NODE, "-e", _NODE_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    compared, differences = 0, []
    for case, node in zip(cases, json.loads(answer.stdout), strict=True):
        if node is None or case["verdict"] == "invalid":
            if (node is None) != (case["verdict"] == "invalid"):
                differences.append((case["p"], "valid in JavaScript" if node else "invalid"))
            continue
        if case["verdict"] == "refused":
            continue
        for text, expected in zip(case["s"], node, strict=True):
            compared += 1
            if js_regex_search(case["p"], text, case["i"]) is not expected:
                differences.append((case["p"], case["i"], text, expected))
    assert differences == []
    assert compared > 3000
