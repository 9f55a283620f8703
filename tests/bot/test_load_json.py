"""`load_json` (orjson first, the standard library for the rest) reads what `json.loads` read, and refuses
what it refused with the same error (issue 14 item 3: JSON in -> JSON out).

Random JSON values written by `json.dumps` (big integers, floats, escapes, non-ASCII, nesting), random
near-JSON texts (truncations, constants, control characters, lone surrogates, trailing commas, BOMs): the
value and every type inside it (an int stays an int, -0.0 stays -0.0), or the error, are the same.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import InputError, _no_constants, load_json

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(), st.text(alphabet="é中\\\"\n\t\x00\ud800"),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)), max_leaves=25)
WRITTEN = st.builds(lambda v, ascii_, indent: json.dumps(v, ensure_ascii=ascii_, indent=indent),
                    VALUES, st.booleans(), st.sampled_from([None, 2]))
NEAR = st.one_of(
    st.text(alphabet='{}[]",:0123456789.eE+- \t\n\rtrufalsenNIiy\\u\ud800\x01\ufeff中', max_size=40),
    st.builds(lambda text, cut: text[:cut], WRITTEN, st.integers(0, 60)),
    st.builds(lambda text, extra: text + extra, WRITTEN, st.sampled_from([",", "]", " x", "\x00", " NaN"])),
    st.sampled_from(["NaN", "[Infinity]", "-Infinity", "1e400", "[1,]", '{"a":1,}', "\ufeff{}", '"\\ud800"',
                     "[" * 1500 + "]" * 1500, '{"a": 1, "a": 2}', "99999999999999999999", "-0.0", "1E2"]),
)


def _reference(text: str) -> Any:
    try:
        return ("ok", json.loads(text, parse_constant=_no_constants))
    except RecursionError:
        return ("error", "not JSON: nested too deeply")
    except ValueError as e:
        return ("error", f"not JSON: {e}")


def _typed(value: Any) -> Any:
    """The value with every type spelled out (1 and 1.0 and True differ; so do 0.0 and -0.0)."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


def _ours(text: str) -> Any:
    try:
        return ("ok", load_json(text))
    except InputError as e:
        assert e.kind == "invalid_json" and e.field is None
        return ("error", e.message)


@settings(max_examples=800, deadline=None)
@given(text=st.one_of(WRITTEN, NEAR))
def test_load_json_reads_and_refuses_as_the_standard_library(text: str) -> None:
    kind, expected = _reference(text)
    got_kind, got = _ours(text)
    assert got_kind == kind, text
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # _typed walks the 1,500-deep array the standard library reads
    try:
        assert (_typed(got) if kind == "ok" else got) == (_typed(expected) if kind == "ok" else expected), text
    finally:
        sys.setrecursionlimit(limit)
