"""Questions about what happens when an enterprise does not comply (罚款多少？不审核会怎么样？), answered from
the penalty table (rules/penalties.py) with the articles it cites, for the contact's own deadlines where the
interview knows them, else for the steps every mandatory audit has."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import parse
from handlers.status import KIND_LABELS, StatusItem, penalty_lines
from rules.engine import Assessment
from rules.i18n import N_, Gettext

_PENALTY_WORDS = (
    "罚款", "罚多少", "罚钱", "会罚", "处罚", "罚则", "后果", "不做会怎", "不审核会怎", "不做的话", "不审核的话",
    "不公布会怎", "不公示会怎", "逾期会怎", "超期会怎", "晚了会怎", "penalty", "penalties", "fine", "fined",
    "what happens if",
)
_GENERIC_KINDS = ("disclosure", "start", "report")


def is_penalty_question(text: str) -> bool:
    """A question about penalties ("罚款多少？"), not a statement ("去年因为超标被罚款了" is a fact to read)."""
    from handlers.interview import asked_something  # here: handlers.interview imports the status modules

    t = parse.normalize(text)
    return any(w in t for w in _PENALTY_WORDS) and asked_something(text)


def answer_penalty_question(text: str, a: Assessment | None, province: str | None, today: date,
                            tr: Gettext) -> str | None:
    """The penalties for missing each step (the contact's own steps when the verdict has deadlines); None
    when the text is not such a question."""
    if not is_penalty_question(text):
        return None
    return penalty_text(a, province, today, tr)


def penalty_text(a: Assessment | None, province: str | None, today: date, tr: Gettext) -> str | None:
    """What the law attaches to each missed step: the verdict's own steps where it has deadlines, else the
    steps every mandatory audit has (national articles); None when nothing is attached."""
    miss = today - timedelta(days=1)
    if a is not None and a.deadlines:
        items = [StatusItem(d.kind, d.nominal, d.due, d.citation) for d in a.deadlines]
    else:  # no deadlines yet: the national articles only (a provincial one is cited once it governs a deadline)
        items = [StatusItem(kind, miss, miss) for kind in _GENERIC_KINDS]
        province = None
    by_risk: dict[tuple[str, ...], list[str]] = {}
    for item in items:
        risk = tuple(penalty_lines(item, tr, province=province))
        if risk:
            by_risk.setdefault(risk, []).append(tr(KIND_LABELS.get(item.kind, item.kind)))
    if not by_risk:
        return None
    lines = [tr(N_("What the law attaches to a missed step:"))]
    for risk, whats in by_risk.items():
        lines.append(tr(N_("• {what}:")).format(what=tr(N_(", ")).join(whats)))
        lines += [f"  {x}" for x in risk]
    lines.append(tr(N_("Nothing is fined for being on a list: penalties follow a missed step, and I remind you "
                       "before each of yours.")))
    return "\n".join(lines)
