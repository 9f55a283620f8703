"""handlers/extract.py against the corpus (tests/handlers/extraction_corpus.yaml), plus focused cases.

The corpus test fails on any utterance that sets, at SURE or above, a fact it must not (forbidden, or
another value than expected) or a wrong yes/no; misses only lower the recall, which has a floor. The
last test prints precision and recall per fact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.extract import SURE, Reading, read
from handlers.extract_tables import TOXIC_CLASSES, tables

CORPUS = Path(__file__).parent / "extraction_corpus.yaml"
FLAGS = ("polarity", "unknown", "none", "rest")
# Measured 2026-12-01: 0.999 over the corpus (which the lexicon was tuned on; two held-out batches
# written before their fixes scored 0.92 and 1.00, README "Reading messages"). The floor leaves room
# for a few misses, never for a regression of a whole kind of phrasing.
RECALL_FLOOR = 0.97
FACT_RECALL_FLOOR = 0.85  # no single fact (with 4 expectations or more) may fall below this


@dataclass
class Case:
    text: str
    asking: str | None
    today: date
    expect: dict[str, Any]
    forbid: list[str]


@dataclass
class Score:
    expected: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)
    sure: Counter[str] = field(default_factory=Counter)  # candidates set at >= SURE
    sure_right: Counter[str] = field(default_factory=Counter)
    sure_wrong: Counter[str] = field(default_factory=Counter)  # forbidden, or another value than expected
    failures: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def _load() -> list[Case]:
    raw = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    default = raw["today"]
    return [
        Case(
            text=str(c["text"]),
            asking=c.get("asking"),
            today=c.get("today", default),
            expect=c.get("expect") or {},
            forbid=list(c.get("forbid") or []),
        )
        for c in raw["cases"]
    ]


CASES = _load()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-6
    return bool(a == b)


def _check(case: Case, r: Reading, score: Score) -> None:
    where = f"{case.text!r} (asking={case.asking})"
    for name, want in case.expect.items():
        score.expected[name] += 1
        if name in FLAGS:
            got = getattr(r, name)
            if got == want:
                score.matched[name] += 1
            elif name == "polarity" and got is not None:
                score.failures.append(f"{where}: polarity {got}, expected {want}")
            else:
                score.misses.append(f"{where}: {name} {got}, expected {want}")
            continue
        c = r.get(name)
        if isinstance(want, dict):
            ok = c is not None
            if ok and c is not None:
                if want.get("unsure") and c.confidence >= SURE:
                    score.failures.append(f"{where}: {name}={c.value!r} stored at {c.confidence}, expected unsure")
                    ok = False
                if "value" in want and not _same(c.value, want["value"]):
                    ok = False
                if "partial" in want and c.partial != want["partial"]:
                    ok = False
                offered = [*c.options, *(c.value if isinstance(c.value, list) else [c.value])]
                if not all(o in offered for o in want.get("options", ())):
                    ok = False
            if ok:
                score.matched[name] += 1
            else:
                score.misses.append(f"{where}: {name} {c}, expected {want}")
            continue
        if c is not None and c.confidence >= SURE and not _same(c.value, want):
            score.failures.append(f"{where}: {name}={c.value!r} at {c.confidence}, expected {want!r}")
        elif c is not None and c.confidence >= SURE:
            score.matched[name] += 1
        else:
            score.misses.append(f"{where}: {name} {c}, expected {want!r} at >= SURE")
    for name in case.forbid:
        if name == "polarity":
            if r.polarity is not None:
                score.failures.append(f"{where}: polarity {r.polarity}, must be None")
            continue
        c = r.get(name)
        if c is not None and c.confidence >= SURE:
            score.failures.append(f"{where}: forbidden {name}={c.value!r} at {c.confidence}")
    for c in r.candidates:
        if c.confidence < SURE:
            continue
        score.sure[c.fact] += 1
        want = case.expect.get(c.fact)
        if want is not None and not isinstance(want, dict):
            if _same(c.value, want):
                score.sure_right[c.fact] += 1
            else:
                score.sure_wrong[c.fact] += 1
        elif c.fact in case.forbid or (isinstance(want, dict) and want.get("unsure")):
            score.sure_wrong[c.fact] += 1


@pytest.fixture(scope="module")
def scored() -> Score:
    score = Score()
    for case in CASES:
        _check(case, read(case.text, today=case.today, asking=case.asking), score)
    return score


def test_corpus_is_large_and_well_formed() -> None:
    assert len(CASES) >= 300
    facts = {
        "province", "industry_code", "scale", "employees", "revenue_10k_yuan", "exceeds_emission_standard",
        "exceeds_total_quota", "exceeds_energy_limit", "missed_energy_target", "toxic_classes", "has_extraction",
        "has_industrial_coating", "above_designated_size", "on_master_list", "central_enterprise",
        "list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on", "credit_code",
        "exceeds_standard_or_quota",
    }
    for case in CASES:
        assert set(case.expect) <= facts | set(FLAGS), case.text
        assert set(case.forbid) <= facts | {"polarity"}, case.text
        assert case.asking is None or case.asking in facts | {"scale"}, case.text


def test_corpus_never_sets_a_fact_it_must_not(scored: Score) -> None:
    assert not scored.failures, "\n".join(scored.failures)


def test_corpus_recall_floor(scored: Score) -> None:
    total = sum(scored.expected.values())
    recall = sum(scored.matched.values()) / total
    assert recall >= RECALL_FLOOR, f"recall {recall:.3f} < {RECALL_FLOOR}; misses:\n" + "\n".join(scored.misses)
    low = {
        f: scored.matched[f] / n
        for f, n in scored.expected.items()
        if n >= 4 and scored.matched[f] / n < FACT_RECALL_FLOOR
    }
    assert not low, f"facts under {FACT_RECALL_FLOOR}: {low}; misses:\n" + "\n".join(scored.misses)


# -- focused cases ----------------------------------------------------------------------------------

TODAY = date(2026, 12, 1)


def _r(text: str, asking: str | None = None, today: date = TODAY) -> Reading:
    return read(text, today=today, asking=asking)


@pytest.mark.parametrize(
    ("text", "asking", "polarity"),
    [
        ("没有超标", "exceeds_emission_standard", False),
        ("不是不超", "exceeds_emission_standard", True),
        ("不超标", "exceeds_emission_standard", False),
        ("从来没超过", "exceeds_emission_standard", False),
        ("没有没超", "exceeds_total_quota", True),
        ("是的", "central_enterprise", True),
        ("应该没有吧。", "has_extraction", False),
        ("有机化学原料", "exceeds_emission_standard", None),
        ("不锈钢加工", "exceeds_emission_standard", None),
        ("300", "exceeds_emission_standard", None),
        ("没有超标", "exceeds_total_quota", None),  # an answer about another fact
        ("有吗", "exceeds_emission_standard", None),
        ("可能没有", "exceeds_emission_standard", None),
    ],
)
def test_negation_scope_and_polarity(text: str, asking: str, polarity: bool | None) -> None:
    assert _r(text, asking).polarity is polarity


@pytest.mark.parametrize(
    ("text", "fact", "value"),
    [
        ("没有超标", "exceeds_emission_standard", False),
        ("排放从来没超过标准", "exceeds_emission_standard", False),
        ("不达标", "exceeds_emission_standard", True),
        ("没有超标和超总量", "exceeds_total_quota", False),
        ("没有超标，但是超总量了", "exceeds_total_quota", True),
        ("超标的情况没有", "exceeds_emission_standard", False),
        ("不是央企", "central_enterprise", False),
        ("没完成节能目标", "missed_energy_target", True),
        ("不是没完成节能目标", "missed_energy_target", False),
    ],
)
def test_negated_fact_words(text: str, fact: str, value: bool) -> None:
    c = _r(text).get(fact)
    assert c is not None and c.value is value and c.confidence >= SURE


@pytest.mark.parametrize("text", ["有没有超标", "超标吗", "如果超标了怎么办", "是不是双超"])
def test_questions_and_suppositions_state_nothing(text: str) -> None:
    r = _r(text)
    assert r.get("exceeds_emission_standard") is None and r.get("exceeds_standard_or_quota") is None


@pytest.mark.parametrize(
    ("text", "asking", "fact", "value"),
    [
        ("四百来人", None, "employees", 400),
        ("500人左右", None, "employees", 500),
        ("1.2万人", None, "employees", 12000),
        ("两个亿", "revenue_10k_yuan", "revenue_10k_yuan", 20000),
        ("5个亿", "revenue_10k_yuan", "revenue_10k_yuan", 50000),
        ("1.2亿元", "revenue_10k_yuan", "revenue_10k_yuan", 12000),
        ("八千万", "revenue_10k_yuan", "revenue_10k_yuan", 8000),
        ("年营业额两个亿", None, "revenue_10k_yuan", 20000),
        ("营收5000万", None, "revenue_10k_yuan", 5000),
        ("2000", "above_designated_size", "revenue_10k_yuan", 2000),
        ("300", "employees", "employees", 300),
    ],
)
def test_numbers(text: str, asking: str | None, fact: str, value: float) -> None:
    c = _r(text, asking).get(fact)
    assert c is not None and c.value == value and c.confidence >= SURE


def test_bare_numbers_are_no_headcount_and_no_yes() -> None:
    r = _r("300", "exceeds_emission_standard")
    assert r.polarity is None and r.get("employees") is None and r.get("revenue_10k_yuan") is None
    assert _r("我们是一家化工厂").get("employees") is None
    assert _r("注册资本5000万").get("revenue_10k_yuan") is None


def test_money_outside_its_question_is_confirmed() -> None:
    c = _r("两个亿", "exceeds_emission_standard").get("revenue_10k_yuan")
    assert c is not None and c.value == 20000 and c.confidence < SURE


@pytest.mark.parametrize(
    ("text", "asking", "fact", "value", "partial", "sure"),
    [
        ("2026-03-31", "list_published_on", "list_published_on", "2026-03-31", None, True),
        ("26年3月31号", "list_published_on", "list_published_on", "2026-03-31", None, True),
        ("今年3月31日", "list_published_on", "list_published_on", "2026-03-31", None, True),
        ("去年3月底", "list_published_on", "list_published_on", "2025-03-31", "2025-03", False),
        ("去年3月", "list_published_on", "list_published_on", None, "2025-03", False),
        ("2021年3月底", "last_audit_completed_on", "last_audit_completed_on", "2021-03-31", "2021-03", False),
        ("上次审核是2021年5月10日完成的", None, "last_audit_completed_on", "2021-05-10", None, True),
        ("2023年8月8日通过验收", None, "accepted_on", "2023-08-08", None, True),
        ("评估是2023年7月1日", "list_published_on", "evaluated_on", "2023-07-01", None, True),
        ("昨天公布的名单", None, "list_published_on", "2026-11-30", None, True),
    ],
)
def test_dates(text: str, asking: str | None, fact: str, value: str | None, partial: str | None, sure: bool) -> None:
    c = _r(text, asking).get(fact)
    assert c is not None and c.value == value and c.partial == partial
    assert (c.confidence >= SURE) is sure


def test_a_date_with_nothing_saying_which_is_left_out() -> None:
    r = _r("2026年3月31日")
    assert not r.candidates and r.rest


@pytest.mark.parametrize(
    ("code", "province"),
    [("91140100MA0K5L8W2U", "shanxi"), ("91370300MA0K5L8W20", "shandong"), ("91650100MA0K5L8W2H", "xinjiang")],
)
def test_credit_code_gives_the_province(code: str, province: str) -> None:
    r = _r(f"我们的信用代码是{code}")
    cc, p = r.get("credit_code"), r.get("province")
    assert cc is not None and cc.value == code
    assert p is not None and p.value == province and p.confidence >= SURE


def test_an_invalid_credit_code_is_nothing() -> None:
    assert _r("91370300MA0K5L8W21").get("credit_code") is None


def test_province_typo_is_asked_back() -> None:
    c = _r("山希", "province").get("province")
    assert c is not None and c.confidence < SURE and c.options[0] == "shanxi"


def test_cities_give_their_province() -> None:
    for text, pid in (("太原", "shanxi"), ("淄博", "shandong"), ("乌鲁木齐", "xinjiang")):
        c = _r(text).get("province")
        assert c is not None and c.value == pid and c.confidence >= SURE


def test_double_toxic_offers_all_classes_and_is_never_stored() -> None:
    c = _r("双有").get("toxic_classes")
    assert c is not None and c.value is None and c.confidence < SURE and set(c.options) == set(TOXIC_CLASSES)


def test_every_unsure_or_valueless_candidate_is_below_sure() -> None:
    for case in CASES:
        for c in read(case.text, today=case.today, asking=case.asking).candidates:
            if c.value is None:
                assert c.confidence < SURE, (case.text, c)


def test_lexicon_industry_codes_are_real_classes() -> None:
    from rules.industries import get_class

    for roles in (r for entries in tables().gazetteer.by_first.values() for _, r in entries):
        if roles.industry is not None:
            assert all(get_class(code) is not None for code in roles.industry.codes)


def test_zz_report_precision_and_recall(scored: Score, capsys: pytest.CaptureFixture[str]) -> None:
    facts = sorted(set(scored.expected) | set(scored.sure))
    lines = ["", "extraction over the corpus: recall (of expectations) and precision (of the facts set at >= SURE",
             "where the corpus says what they should be: right / (right + forbidden or another value))",
             f"{'fact':28} {'expected':>8} {'recall':>7} {'set':>5} {'precision':>9}"]
    for f in facts:
        n, m = scored.expected[f], scored.matched[f]
        s = scored.sure[f]
        right, judged = scored.sure_right[f], scored.sure_right[f] + scored.sure_wrong[f]
        prec = f"{right / judged:9.2f}" if judged and f not in FLAGS else f"{'-':>9}"
        rec = f"{m / n:7.2f}" if n else f"{'-':>7}"
        lines.append(f"{f:28} {n:8d} {rec} {s:5d} {prec}")
    total, matched = sum(scored.expected.values()), sum(scored.matched.values())
    lines.append(f"{'overall':28} {total:8d} {matched / total:7.2f}   ({len(CASES)} utterances, "
                 f"{len(scored.misses)} misses, {len(scored.failures)} failures)")
    with capsys.disabled():
        print("\n".join(lines))
