"""Conditions as data: a tiny three-valued evaluator (no Python in YAML).

A condition compiles to a `Condition`: `value(facts)` is True, False or None (unknown), and
`waiting(facts)` names the absent facts that keep an undecided condition undecided.

Two implementations of the same semantics: the reference one, a tree of closures walked per call
(`compile_condition(raw, generated=False)`), and the one used by default, in which `CodeGen` writes the
validated condition as one Python expression (Kleene and/or with short-circuit, each fact read once) and
compiles it once. The generated source holds only the fact names (identifiers of `KNOWN_FACTS`), the
operators of this module and names bound to the condition's constants: nothing of a pack is evaluated as
code. tests/rules/test_conditions_codegen.py checks both agree on random conditions and facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

Facts = Mapping[str, Any]
Tri = bool | None

# The facts a condition may name: DESIGN.md's fact table plus the engine's derived facts.
KNOWN_FACTS: frozenset[str] = frozenset(
    {
        "province", "industry_code", "scale", "employees", "revenue_10k_yuan",
        "exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit",
        "missed_energy_target", "toxic_classes", "has_extraction", "has_industrial_coating",
        "above_designated_size", "on_master_list", "list_published_on", "last_audit_completed_on",
        "evaluated_on", "accepted_on", "central_enterprise",
        "industry_section", "industry_division",
    }
)


class ConditionError(ValueError):
    """A condition is malformed; `path` is the key path inside the condition."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


@dataclass(frozen=True, slots=True)
class Condition:
    value: Callable[[Facts], Tri]
    waiting: Callable[[Facts], list[str]]
    facts: frozenset[str]
    raw: Any = None  # the validated condition as written (None for `always`)


def always() -> Condition:
    return Condition(lambda f: True, lambda f: [], frozenset())


def compile_condition(raw: object, path: str = "", *, generated: bool = True) -> Condition:
    """Validate `raw` (ConditionError names the key path) and compile it: to generated code, or with
    `generated=False` to the reference tree of closures."""
    reference = _compile(raw, path)
    if not generated:
        return replace(reference, raw=raw)
    gen = CodeGen()
    value, waiting = gen.node(raw)
    fns = gen.build(
        "def value(facts):\n" + gen.prologue() + f"    return {value}\n"
        "def waiting(facts):\n" + gen.prologue() + f"    if {value} is not None:\n        return []\n"
        f"    return list({waiting})\n"
    )
    return Condition(fns["value"], fns["waiting"], reference.facts, raw)


def _compile(raw: object, path: str) -> Condition:
    if not isinstance(raw, dict) or not raw:
        raise ConditionError(path, f"a condition must be a non-empty mapping, not {raw!r}")
    if "fact" in raw:
        return _leaf(raw, path)
    if len(raw) != 1:
        raise ConditionError(path, f"expected one of all/any/not, got keys {sorted(raw)}")
    (op, arg), = raw.items()
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ConditionError(f"{path}.{op}", "must be a non-empty list of conditions")
        parts = [_compile(c, f"{path}.{op}[{i}]") for i, c in enumerate(arg)]
        return _all(parts) if op == "all" else _any(parts)
    if op == "not":
        return _not(_compile(arg, f"{path}.not"))
    raise ConditionError(path, f"unknown operator {op!r} (expected fact, all, any or not)")


def _leaf(raw: dict[str, Any], path: str) -> Condition:
    name = raw["fact"]
    if name not in KNOWN_FACTS:
        raise ConditionError(f"{path}.fact", f"unknown fact {name!r}")
    tests = {k: v for k, v in raw.items() if k != "fact"}
    if len(tests) != 1:
        raise ConditionError(path, f"a fact test needs exactly one of {sorted(_TESTS)}, got {sorted(tests)}")
    (op, arg), = tests.items()
    make = _TESTS.get(op)
    if make is None:
        raise ConditionError(f"{path}.{op}", f"unknown test (expected one of {sorted(_TESTS)})")
    test = make(arg, f"{path}.{op}")

    def value(facts: Facts) -> Tri:
        v = facts.get(name)  # absent and null are both unknown
        return None if v is None else test(v)

    def waiting(facts: Facts) -> list[str]:
        return [name] if facts.get(name) is None else []

    return Condition(value, waiting, frozenset({name}))


def _scalar(arg: object, path: str) -> Callable[[Any], bool]:
    if not isinstance(arg, bool | str | int | float):
        raise ConditionError(path, f"expected a bool, string or number, got {arg!r}")
    return lambda v: bool(v == arg)


def _members(arg: object, path: str) -> frozenset[Any]:
    if not isinstance(arg, list) or not arg:
        raise ConditionError(path, "expected a non-empty list")
    return frozenset(arg)


def _in(arg: object, path: str) -> Callable[[Any], bool]:
    members = _members(arg, path)
    return lambda v: v in members


def _intersects(arg: object, path: str) -> Callable[[Any], bool]:
    members = _members(arg, path)
    return lambda v: not members.isdisjoint(v)


def _nonempty(arg: object, path: str) -> Callable[[Any], bool]:
    if not isinstance(arg, bool):
        raise ConditionError(path, "expected true or false")
    return lambda v: (len(v) > 0) is arg


def _number(arg: object, path: str) -> float:
    if isinstance(arg, bool) or not isinstance(arg, int | float):
        raise ConditionError(path, f"expected a number, got {arg!r}")
    return float(arg)


def _at_least(arg: object, path: str) -> Callable[[Any], bool]:
    n = _number(arg, path)
    return lambda v: bool(v >= n)


def _below(arg: object, path: str) -> Callable[[Any], bool]:
    n = _number(arg, path)
    return lambda v: bool(v < n)


_TESTS: dict[str, Callable[[object, str], Callable[[Any], bool]]] = {
    "is": _scalar, "in": _in, "intersects": _intersects, "nonempty": _nonempty,
    "at_least": _at_least, "below": _below,
}


def _all(parts: Sequence[Condition]) -> Condition:
    return _junction(parts, decisive=False)  # one false part makes the whole false


def _any(parts: Sequence[Condition]) -> Condition:
    return _junction(parts, decisive=True)  # one true part makes the whole true


def _junction(parts: Sequence[Condition], *, decisive: bool) -> Condition:
    """Kleene and/or: a part equal to `decisive` decides; otherwise any unknown part leaves it unknown."""

    def value(facts: Facts) -> Tri:
        result: Tri = not decisive
        for p in parts:
            v = p.value(facts)
            if v is decisive:
                return decisive
            if v is None:
                result = None
        return result

    def waiting(facts: Facts) -> list[str]:
        # One pass: nothing waits once a part decides; otherwise what the unknown parts wait on.
        out: list[str] = []
        for p in parts:
            v = p.value(facts)
            if v is decisive:
                return []
            if v is None:
                out.extend(p.waiting(facts))
        return out

    return Condition(value, waiting, frozenset().union(*(p.facts for p in parts)))


def _not(part: Condition) -> Condition:
    def value(facts: Facts) -> Tri:
        v = part.value(facts)
        return None if v is None else not v

    return Condition(value, part.waiting, part.facts)


class CodeGen:
    """Python source for validated conditions, compiled once. `node(raw)` gives two expressions: the
    condition's value, and (meaningful only when that value is None) a tuple of the facts it waits on, in
    the order the reference implementation names them. Facts are read once into locals by `prologue()`;
    constants are names bound in `namespace`; temporaries (`:=`) hold the parts' values, so that the
    waiting expression, evaluated after the value, reads them (all parts of an undecided junction have
    been evaluated: none was decisive)."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}
        self.facts: dict[str, str] = {}
        self._temps = 0

    def const(self, value: object) -> str:
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def fact(self, name: str) -> str:
        if name not in KNOWN_FACTS or not name.isidentifier():  # validated before; never code from a pack
            raise ConditionError("fact", f"unknown fact {name!r}")
        return self.facts.setdefault(name, f"_f_{name}")

    def prologue(self, indent: str = "    ") -> str:
        if not self.facts:
            return ""
        return f"{indent}_get = facts.get\n" + "".join(
            f"{indent}{local} = _get({name!r})\n" for name, local in self.facts.items())

    def build(self, source: str) -> dict[str, Any]:
        scope = dict(self.namespace)
        exec(compile(source, "<rules.conditions>", "exec"), scope)  # our own generated source (see the docstring)
        return scope

    def node(self, raw: Any) -> tuple[str, str]:
        if "fact" in raw:
            return self._leaf(raw)
        (op, arg), = raw.items()
        if op == "not":
            t = self.temp()
            value, waiting = self.node(arg)
            return f"(None if ({t} := {value}) is None else not {t})", waiting
        decisive = op == "any"
        parts = [(self.temp(), *self.node(c)) for c in arg]
        unknown = " or ".join(f"{t} is None" for t, _, _ in parts)
        expr = f"(None if {unknown} else {not decisive})"
        for t, value, _ in reversed(parts):
            expr = f"{decisive} if ({t} := {value}) is {decisive} else {expr}"
        waiting = " + ".join(f"({w} if {t} is None else ())" for t, _, w in parts)
        return f"({expr})", f"({waiting})"

    def _leaf(self, raw: dict[str, Any]) -> tuple[str, str]:
        name = raw["fact"]
        local = self.fact(name)
        (op, arg), = ((k, v) for k, v in raw.items() if k != "fact")
        if op == "is":
            test = f"{local} == {self.const(arg)}"
        elif op == "in":
            test = f"{local} in {self.const(frozenset(arg))}"
        elif op == "intersects":
            test = f"not {self.const(frozenset(arg))}.isdisjoint({local})"
        elif op == "nonempty":
            test = f"len({local}) > 0" if arg else f"len({local}) <= 0"
        elif op == "at_least":
            test = f"{local} >= {self.const(float(arg))}"
        elif op == "below":
            test = f"{local} < {self.const(float(arg))}"
        else:  # validated before
            raise ConditionError(op, "unknown test")
        return f"(None if {local} is None else ({test}))", f"({name!r},)"
