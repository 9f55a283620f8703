"""How many answers the interview needs, before and after asking the most decisive question first.

Each profile of bench/profiles.py is a contact who knows exactly its profile's facts: asked a fact it
has, it answers it; asked one it lacks, it says "not sure" (the question is skipped). The count runs
from the first question to the verdict (or to the end of the questions when the verdict stays open).
"Before" asks in the engine's order, one ground at a time (what the interview did until issue 9),
"after" in the order of `handlers.ordering`, with the open grounds asked together once (answered by a
contact who knows them all, or as soon as one of them holds); both see the same profiles, with the
province known where the profile has one, as a contact who names it in the first sentence. Also the CPU
time the ordering adds per question.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

from bench.profiles import profiles
from handlers.interview import CHECKLIST, Interview
from handlers.state import ConversationState, Undo
from rules import FactError, default_engine, derive, parse_facts
from rules.provinces import normalize_province

AS_OF = date(2026, 12, 1)
SIZE_FACTS = ("employees", "revenue_10k_yuan")


def answers_needed(interview: Interview, profile: dict[str, Any]) -> tuple[int, str]:
    st = ConversationState()
    known = dict(profile)
    if "province" in known:
        known["province"] = normalize_province(known["province"])
    for _ in range(30):
        a = interview.assessment(st)
        if a.obligation != "undetermined":
            return len(st.interview.history), a.obligation
        fact = interview.next_fact(st, a)
        if fact is None:
            return len(st.interview.history), a.obligation
        if fact == CHECKLIST:  # the open grounds asked together: answered if the contact knows them all,
            grounds = interview.checklist(st, a)  # or as soon as one of them holds; else skipped
            held = {g: known[g] for g in grounds if g in known and known[g] not in (False, [])}
            given = held or ({g: known[g] for g in grounds} if all(g in known for g in grounds) else {})
            st.interview.asked_follow = [*st.interview.asked_follow, CHECKLIST]
            st.interview.facts = {**st.interview.facts, **given}
            st.interview.history = [*st.interview.history, Undo(fact=fact, set=sorted(given))]
            continue
        given = {fact: known[fact]} if fact in known else {}
        if fact == "scale" and not given:
            given = {k: known[k] for k in SIZE_FACTS if k in known}
        st.interview.facts = {**st.interview.facts, **given}
        if not given:
            st.interview.skipped = [*st.interview.skipped, fact]
        st.interview.history = [*st.interview.history, Undo(fact=fact, set=sorted(given))]
    raise AssertionError(f"no end of questions for {profile}")


def run(n: int = 2000) -> dict[str, Any]:
    engine = default_engine()
    raw = [p for p in profiles(n, seed=20261201) if _valid(p)]
    before = Interview(engine, lambda: AS_OF, decisive_first=False)
    after = Interview(engine, lambda: AS_OF)
    out: dict[str, Any] = {"profiles": len(raw)}
    for name, interview in (("engine_order", before), ("decisive_first", after)):
        counts: list[int] = []
        cpu0 = time.process_time()
        for p in raw:
            counts.append(answers_needed(interview, p)[0])
        cpu = time.process_time() - cpu0
        questions = sum(counts) or 1
        out[name] = {"mean_answers": round(statistics.fmean(counts), 3), "median_answers": statistics.median(counts),
                     "p90_answers": sorted(counts)[int(0.9 * len(counts))],
                     "cpu_ms_per_question": round(1000 * cpu / questions, 3)}
        for province in ("shanxi", "henan", "shandong", "xinjiang"):
            sub = [c for c, p in zip(counts, raw, strict=True) if _province(p) == province]
            out[name][f"mean_answers_{province}"] = round(statistics.fmean(sub), 3) if sub else None
    return out


def _province(p: dict[str, Any]) -> str | None:
    return normalize_province(p["province"]) if "province" in p else None


def _valid(p: dict[str, Any]) -> bool:
    try:
        derive(parse_facts(p))
    except FactError:  # a profile the contract refuses is not a contact
        return False
    return True
