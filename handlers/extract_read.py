"""How handlers/extract.py reads a message (the interface and its documentation live there).

1. Normalise (NFKC, lower case, spaces squeezed), keeping where each character came from.
2. Cut out dates, credit codes and amounts (handlers/extract_numbers.py), then the leftmost-longest
   words of the lexicon (handlers/extract_tables.py) in what remains.
3. Split into clauses at punctuation; read each fact word with its negation scope (the negations
   before it, through fillers; 没有 at the clause end after it), skipping words a question or a
   supposition (有没有超标, 如果超标) only mentions.
4. Assemble one candidate per fact; the whole-message flags (polarity, unknown, none, rest) last.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from handlers.extract import (
    DATE_FACTS,
    HW_OPERATOR,
    LISTED,
    OUTPUT_VALUE,
    PAST,
    RANGE,
    ROUND_DAY,
    SURE,
    Candidate,
    Reading,
)
from handlers.extract_numbers import MAYBE, Amount, DateHit, find_amounts, find_codes, find_dates
from handlers.extract_tables import TOXIC_CLASSES, Tables, Term, Token, readings, tables
from rules.sizes import DESIGNATED_SIZE_REVENUE, EMPLOYEE_BOUNDS, REVENUE_BOUNDS

_CLAUSE_MARKS = frozenset("，,。；;！!？?\n…")
_QUESTION_ONLY = frozenset({"?", "？", "??", "？？"})
_SKIP_IN_SCOPE = frozenset({"filler", "approx", "hedge"})
_REVENUE_QUESTIONS = frozenset({"revenue_10k_yuan", "above_designated_size"})
_MAX_EMPLOYEES = 5_000_000


@dataclass(frozen=True, slots=True)
class _Msg:
    text: str  # as typed
    norm: str
    origin: list[int]  # norm index -> text index
    tokens: list[Token]
    clause_of: list[int]  # per token
    bounds: list[int]  # clause boundary positions in norm
    uncovered: list[int]
    t: Tables
    claimed: set[int]  # uncovered positions a typo or an abbreviation was read from

    def span(self, start: int, end: int) -> str:
        return self.text[self.origin[start] : self.origin[end - 1] + 1]

    def clause_at(self, pos: int) -> int:
        return bisect.bisect_left(self.bounds, pos)


def read_message(text: str, *, today: date, asking: str | None) -> Reading:
    t = tables()
    norm, origin = _normalize(text, t.traditional)
    if not norm.strip():
        return Reading()
    dates = find_dates(norm, today)
    if asking in DATE_FACTS and not dates:
        dates = _bare_year(norm)
    codes = find_codes(norm) if len(norm) >= 18 else []
    blocked = sorted([(d.start, d.end) for d in dates] + [(s, e) for s, e, _ in codes])
    amounts = find_amounts(norm, blocked)
    blocked = sorted(blocked + [(a.start, a.end) for a in amounts])
    tokens, uncovered = t.gazetteer.scan(norm, blocked)
    bounds = [i for i, ch in enumerate(norm) if ch in _CLAUSE_MARKS and not _between_digits(norm, i)]
    msg = _Msg(text, norm, origin, tokens, [bisect.bisect_left(bounds, tok.start) for tok in tokens], bounds,
               uncovered, t, set())

    found: list[Candidate] = []
    notes: dict[str, bool] = {"rest": False}
    doubted = _doubted(msg, dates)
    found += _terms(msg, asking, _past_dates(msg, dates, amounts, today), doubted)
    found += _province(msg, codes, asking)
    found += _industry(msg, amounts, asking)
    found += _sizes(msg, amounts, asking)
    found += _dates(msg, dates, asking, notes, doubted)
    found += [Candidate("credit_code", code, 1.0, msg.span(s, e)) for s, e, code in codes]
    found += _implied(msg, found)
    polarity, hedged = _polarity(msg, asking)
    unknown = hedged or _unknown(msg)
    none = _none(msg) or (polarity is False and asking in DATE_FACTS)
    if unknown:
        polarity = None
    rest = notes["rest"] or _rest(msg, amounts, found)
    found = [c if c.value is not None or c.confidence < SURE else _capped(c) for c in found]
    found.sort(key=lambda c: text.find(c.span) if c.span else len(text))
    return Reading(candidates=tuple(found), polarity=polarity, unknown=unknown, none=none, rest=rest)


HW_TREATMENT = "7724"  # 危险废物治理 (GB/T 4754-2017): collecting, storing, using or disposing of hazardous waste
_LIST_WORDS = ("名单", "名录")
_NOT_STATED = ("没", "不", "未", "吗", "是否", "如果", "有没有", "?", "？")


def _implied(msg: _Msg, found: list[Candidate]) -> list[Candidate]:
    """Facts a message implies without naming them, always asked back (never stored as they are):

    - a hazardous-waste operator (危废经营单位, 做危废处置的: class 7724) is no ground of its own; whether it
      discharges hazardous waste (its residues, fly ash) decides, so that is asked (HW_OPERATOR);
    - a province's list named without its day (上了省里的清洁生产审核名单，十四五的) is, in Shanxi, the master list
      (名录总库) the cities' yearly lists are drawn from: asked when that question comes (LISTED)."""
    facts = {c.fact for c in found}
    likely = msg.t.levels["likely"]
    out: list[Candidate] = []
    operator = next((c for c in found if c.fact == "industry_code" and HW_TREATMENT in (c.value, *c.options)), None)
    if operator is not None and "toxic_classes" not in facts:
        out.append(Candidate("toxic_classes", ["hazardous_waste"], likely, operator.span, note=HW_OPERATOR))
    if "on_master_list" not in facts and ("list_published_on" not in facts or "十四五" in msg.norm):
        for word in _LIST_WORDS:
            at = msg.norm.find(word)
            if at < 0:
                continue
            clause = msg.clause_at(at)
            start = msg.bounds[clause - 1] + 1 if clause > 0 else 0
            end = msg.bounds[clause] if clause < len(msg.bounds) else len(msg.norm)
            if not any(w in msg.norm[start:end] for w in _NOT_STATED):
                out.append(Candidate("on_master_list", True, likely, msg.span(start, end).strip(), note=LISTED))
            break
    return out


def _capped(c: Candidate) -> Candidate:
    """A candidate without a value (双有: toxic, class unknown) can only be asked back."""
    return Candidate(c.fact, None, tables().levels["likely"], c.span, c.options, c.partial)


# -- normalising ------------------------------------------------------------------------------------


def _normalize(text: str, traditional: dict[str, str]) -> tuple[str, list[int]]:
    chars: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch)[0] == "C" and ch not in "\n\t\r":
            continue
        for c in unicodedata.normalize("NFKC", traditional.get(ch, ch)).lower():
            chars.append((" " if c.isspace() and c != "\n" else c, i))
    out: list[tuple[str, int]] = []
    for k, (c, i) in enumerate(chars):
        if c == " ":
            prev = out[-1][0] if out else " "
            nxt = next((n for n, _ in chars[k + 1 :] if n != " "), " ")
            if prev in " \n" or nxt == " " or (_cjk(prev) and _cjk(nxt)) or not (prev.isascii() and nxt.isascii()):
                continue
        out.append((c, i))
    return "".join(c for c, _ in out), [i for _, i in out]


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _between_digits(s: str, i: int) -> bool:
    return s[i] in ",." and 0 < i < len(s) - 1 and s[i - 1].isdigit() and s[i + 1].isdigit()


def _others(msg: _Msg, pos: int) -> bool:
    """Not the enterprise's own: a client's, supplier's or material's word (a third-party marker before
    it in its clause), or one denied ("我们不是山西的", "不是焦化厂": a negation right before it)."""
    return _third(msg, pos) or _denied(msg, pos)


def _third(msg: _Msg, pos: int) -> bool:
    clause = msg.clause_at(pos)
    return any(_has(tok, "third") and tok.start < pos and msg.clause_at(tok.start) == clause for tok in msg.tokens)


def _denied(msg: _Msg, pos: int) -> bool:
    clause = msg.clause_at(pos)
    k = bisect.bisect_left([tok.start for tok in msg.tokens], pos) - 1
    while k >= 0 and msg.clause_at(msg.tokens[k].start) == clause and _skippable(msg.tokens[k]):
        k -= 1
    return k >= 0 and msg.clause_at(msg.tokens[k].start) == clause and _has(msg.tokens[k], "neg", "no")


# -- fact words -------------------------------------------------------------------------------------


def _has(tok: Token, *kinds: str) -> bool:
    return any(k in tok.roles.kinds for k in kinds)


_INERT = frozenset({"filler", "approx", "conj", "frame_before", "frame_after", "above", "below", "subset", "present",
                    "tentative"})
_STOPS_SCOPE = frozenset({"neg", "term", "question", "contrast", "date_key", "industry", "place", "conj", "unknown"})
_IN_SCOPE = _SKIP_IN_SCOPE | {"yes", "emp_key", "rev_key", "above", "below", "energy"}


def _skippable(tok: Token) -> bool:
    """A word a negation's scope passes over (fillers, 是, 过 ...)."""
    kinds = tok.roles.kinds
    return bool(kinds & _IN_SCOPE) and not kinds & _STOPS_SCOPE


def _negations(msg: _Msg, i: int, negated: dict[int, bool]) -> tuple[bool, bool, int]:
    """(negated, blocked): negations right before token i in its clause; blocked when a question or a
    supposition word is next to it ("有没有超标", "超标吗"); and where the negation starts."""
    toks, clause = msg.tokens, msg.clause_of[i]
    count, j, first = 0, i - 1, toks[i].start
    while j >= 0 and msg.clause_of[j] == clause and _adjacent(msg, toks[j], toks[j + 1]):
        tok = toks[j]
        if _has(tok, "question"):
            return False, True, first
        if _has(tok, "contrast"):
            break
        if _has(tok, "term"):
            if j in negated and all(_has(toks[k], "conj") for k in range(j + 1, i)) and i - j > 1:
                count += negated[j]
            break
        if (_has(tok, "neg", "no") and not _has(tok, "unknown", "none")) or _has(tok, "neg"):
            count += 1
            first = tok.start
        elif not (_skippable(tok) or _has(tok, "conj")):
            break
        j -= 1
    k = i + 1
    while k < len(toks) and msg.clause_of[k] == clause and _skippable(toks[k]) and not _has(toks[k], "yes"):
        k += 1
    if k < len(toks) and msg.clause_of[k] == clause and _adjacent(msg, toks[k - 1], toks[k]):
        if _has(toks[k], "question"):
            return False, True, first
        if _has(toks[k], "postneg"):
            rest = [x for x in toks[k + 1 :] if msg.clause_of[toks.index(x)] == clause]
            if all(_skippable(x) or _has(x, "question") for x in rest):
                if any(_has(x, "question") for x in rest):
                    return False, True, first  # 超标没有？ asks
                count += 1
                return count % 2 == 1, False, first
    # a negation closing the clause further on, past words not understood ("超标倒是没有"): unreadable
    tail = [x for x in toks[i + 1 :] if msg.clause_of[toks.index(x)] == clause and not _skippable(x)]
    if tail and _has(tail[-1], "postneg") and not tail[-1].roles.terms:
        return False, True, first
    return count % 2 == 1, False, first


def _adjacent(msg: _Msg, a: Token, b: Token) -> bool:
    """Nothing but spaces between two tokens (an unknown word or a number breaks a negation's scope)."""
    return not msg.norm[a.end : b.start].strip()


def _past_dates(msg: _Msg, dates: list[DateHit], amounts: list[Amount], today: date) -> set[int]:
    """Clauses that say only a day or a year before this year ("去年，超标"): a past for their sentence. Not a
    step's day (去年上了名单), nor a year said of something else (去年营收2亿)."""
    if not dates:
        return set()
    busy = {msg.clause_of[i] for i, tok in enumerate(msg.tokens) if not tok.roles.kinds <= _INERT}
    busy |= {msg.clause_at(a.start) for a in amounts}
    out = set()
    for d in dates:
        year = d.value.year if d.value is not None else int(d.partial[:4]) if d.partial else today.year
        if year < today.year and msg.clause_at(d.start) not in busy:
            out.add(msg.clause_at(d.start))
    return out


def _past_clauses(msg: _Msg, past_dates: set[int]) -> set[int]:
    """Clauses whose fact words are said of the past: a past word or a past event in the clause, or one in
    another clause of the same sentence that has no fact word of its own ("去年被罚过，因为超标"), unless
    the clause says now (现在不超了)."""
    own = {msg.clause_of[i] for i, tok in enumerate(msg.tokens) if _has(tok, "past", "past_event")}
    if not own and not past_dates:
        return own  # most messages: no past said
    with_terms = {msg.clause_of[i] for i, tok in enumerate(msg.tokens) if tok.roles.terms}
    out = set(own)
    lead = (own | past_dates) - with_terms  # a past said in a clause of its own, for the sentence's facts
    if lead:
        present = {msg.clause_of[i] for i, tok in enumerate(msg.tokens) if _has(tok, "present")}
        ends = [pos for pos in msg.bounds if msg.norm[pos] in _SENTENCE_MARKS]
        sentence = {c: bisect.bisect_left(ends, msg.bounds[c] if c < len(msg.bounds) else len(msg.norm))
                    for c in with_terms | lead}
        past_sentences = {sentence[c] for c in lead}
        out |= {c for c in with_terms if sentence[c] in past_sentences and c not in present}
    return out


_SENTENCE_MARKS = frozenset("。；;！!？?\n")


def _doubted(msg: _Msg, dates: list[DateHit]) -> _Doubt:
    """The fact words and dates a hedge (可能, 好像是) or an "I don't know" (记不清) is about. Its scope is its
    clause's facts after it, or, when none follows, the nearest one before it ("名单日期记不清了"): not the whole
    clause, since voice-to-text has no punctuation and one clause may then state several facts plainly
    ("…三百多人没有超标只挖煤不洗煤好像是四月份上的名单": only the list's month is in doubt)."""
    words = [(tok.start, msg.clause_of[i], _has(tok, "unknown")) for i, tok in enumerate(msg.tokens)
             if _has(tok, "hedge", "unknown")]
    out = _Doubt(set(), set(), set(), set())
    if not words:
        return out
    anchors: list[tuple[int, int, str, int]] = []  # (position, clause, "tok" | "date", index)
    for i, tok in enumerate(msg.tokens):
        if tok.roles.terms or tok.roles.date_facts:
            anchors.append((tok.start, msg.clause_of[i], "tok", i))
    for j, d in enumerate(dates):
        anchors.append((d.start, msg.clause_at(d.start), "date", j))
    anchors.sort()
    for pos, clause, unknown in words:
        after = [a for a in anchors if a[1] == clause and a[0] > pos]
        before = [a for a in anchors if a[1] == clause and a[0] < pos]
        for _, _, kind, index in after or before[-1:]:
            if kind == "tok":
                (out.unknown_tokens if unknown else out.tokens).add(index)
            else:
                (out.unknown_dates if unknown else out.dates).add(index)
    return out


@dataclass(frozen=True, slots=True)
class _Doubt:
    tokens: set[int]  # token indices a hedge is about: read, asked back
    dates: set[int]  # date hits a hedge is about
    unknown_tokens: set[int]  # token indices an "I don't know" is about: not read
    unknown_dates: set[int]


def _terms(msg: _Msg, asking: str | None, past_dates: set[int] | None = None,
           doubted: _Doubt | None = None) -> list[Candidate]:
    t = msg.t
    doubt = doubted or _Doubt(set(), set(), set(), set())
    # a question or a supposition only mentions its fact words: "超标会怎么样", "如果超标了"
    hypo_clauses = {msg.clause_of[i] for i, tok in enumerate(msg.tokens) if _has(tok, "hypo", "question")}
    # one saying "I don't know" does not state them either ("不清楚在不在名录"); "可能有点超标", "以前超标过":
    # read, but asked back (a doubt, or a past that may be over); both scoped as _doubted says
    past_clauses = _past_clauses(msg, past_dates or set())
    past_facts: set[str] = set()
    negated: dict[int, bool] = {}
    by_fact: dict[str, list[tuple[Term, Any, float, str, tuple[Any, ...]]]] = {}
    energy_at = [k for k, tok in enumerate(msg.tokens) if _has(tok, "energy")]
    for i, tok in enumerate(msg.tokens):
        terms = tok.roles.terms
        about_energy = any(k < i and msg.clause_of[k] == msg.clause_of[i] for k in energy_at)
        if about_energy:  # 能耗也达标 / 能耗没有超过: the energy limit, not the emission standard
            terms = [_ENERGY_OVER] if not terms and _has(tok, "exceed") else [_energy(tm) for tm in terms]
        if not terms:
            continue
        neg, blocked, first = _negations(msg, i, negated)
        negated[i] = neg
        if blocked or msg.clause_of[i] in hypo_clauses or i in doubt.unknown_tokens:
            continue
        for term in terms:
            read = _term_value(term, neg, t.levels)
            if read is None:
                continue
            value, level, options = read
            if term.fact == "central_enterprise" and _third(msg, tok.start):
                level = min(level, t.levels["maybe"])  # 我们的客户是央企
            if term.fact == "scale" and _tentative(msg, i):
                level = min(level, t.levels["likely"])  # 中等吧: the contact's own doubt, confirmed
            if i in doubt.tokens or msg.clause_of[i] in past_clauses:
                level = min(level, t.levels["likely"])
                if msg.clause_of[i] in past_clauses:
                    past_facts.add(term.fact)
            if asking is not None and asking != term.fact and asking in term.answers:
                level = min(level, t.levels["maybe"])  # 达标 asked about the quota: about the standard, maybe
            by_fact.setdefault(term.fact, []).append((term, value, level, msg.span(first, tok.end), options))
    out = []
    for fact, reads in by_fact.items():
        c = _toxic(reads, t) if fact == "toxic_classes" else _merge(fact, reads, t)
        out.append(dataclasses.replace(c, note=PAST) if fact in past_facts and c.confidence < SURE else c)
    return out


_ENERGY_OVER = Term("exceeds_energy_limit", True, 0.95, answers=frozenset({"exceeds_energy_limit"}))


def _energy(term: Term) -> Term:
    """An emission-standard word said of energy use (能耗也达标) read as the energy-limit fact."""
    if term.fact != "exceeds_emission_standard":
        return term
    return Term("exceeds_energy_limit", term.value, term.level, term.options, frozenset({"exceeds_energy_limit"}),
                term.negatable)


def _tentative(msg: _Msg, i: int) -> bool:
    """A tentative particle in the clause of token i ("中等吧", "算小型吧")."""
    clause = msg.clause_of[i]
    return any(_has(tok, "tentative") and msg.clause_of[k] == clause for k, tok in enumerate(msg.tokens))


def _term_value(term: Term, neg: bool, levels: dict[str, float]) -> tuple[Any, float, tuple[Any, ...]] | None:
    if not neg:
        return term.value, term.level, term.options
    if not term.negatable:
        return None
    if isinstance(term.value, bool):
        return (not term.value), term.level, ()
    if term.fact == "toxic_classes":
        # 没有有毒有害物质 = none of the five; 没有危废 says nothing of the other four
        return [], term.level if term.value is None else levels["maybe"], ()
    return None


def _merge(fact: str, reads: list[tuple[Term, Any, float, str, tuple[Any, ...]]], t: Tables) -> Candidate:
    values = []
    for _, v, _, _, _ in reads:
        if v not in values:
            values.append(v)
    first = reads[0]
    if len(values) == 1:
        best = max(reads, key=lambda r: r[2])
        return Candidate(fact, first[1], best[2], first[3], best[4])
    known = [v for v in values if v is not None]
    return Candidate(fact, None, t.levels["weak"], first[3], tuple(known))


def _toxic(reads: list[tuple[Term, Any, float, str, tuple[Any, ...]]], t: Tables) -> Candidate:
    positive = [r for r in reads if r[1] != []]
    span = reads[0][3]
    if not positive:
        return Candidate("toxic_classes", [], max(r[2] for r in reads), span)
    classes = [c for c in TOXIC_CLASSES if any(r[1] and c in r[1] for r in positive)]
    level = max(r[2] for r in positive)
    if len(positive) < len(reads):
        level = t.levels["maybe"]  # says some toxic and some not: ask
    if not classes:  # only 双有 / 有毒有害: toxic, class unknown
        return Candidate("toxic_classes", None, level, span, TOXIC_CLASSES)
    options = tuple(dict.fromkeys(o for r in positive for o in r[4])) if level < SURE else ()
    return Candidate("toxic_classes", classes, level, span, options)


# -- province ---------------------------------------------------------------------------------------


def _province(msg: _Msg, codes: list[tuple[int, int, str]], asking: str | None) -> list[Candidate]:
    t = msg.t
    hits = [(tok.roles.place.province,
             min(tok.roles.place.level, t.levels["maybe"]) if _others(msg, tok.start) else tok.roles.place.level,
             msg.span(tok.start, tok.end))
            for tok in msg.tokens if tok.roles.place is not None]
    if hits and max(h[1] for h in hits) >= SURE:
        hits = [h for h in hits if h[1] >= SURE]  # a county's short name never outvotes a province
    code_ids = {p.code: p.id for p in _provinces()}
    for s, e, code in codes:
        pid = code_ids.get(code[2:4])
        if pid is not None:
            hits.append((pid, 0.92, msg.span(s, e)))
    if not hits:
        compact = "".join(ch for ch in msg.norm if ch.isalnum())
        if compact.removesuffix("省") in t.abbreviations:
            hits.append((t.abbreviations[compact.removesuffix("省")], 0.92, msg.text.strip()))
            msg.claimed.update(msg.uncovered)
    if not hits:
        return _province_typos(msg)
    ids = list(dict.fromkeys(h[0] for h in hits))
    if ids == ["shanxi"] and all(h[2].strip().lower() == "shanxi" for h in hits) and any(map(_cjk, msg.norm)):
        # pinyin typed among Chinese: toneless "shanxi" is 山西 (Shānxī) or 陕西 (Shǎnxī): asked, never taken
        # (in English "Shanxi" is 山西's official spelling, 陕西's is "Shaanxi")
        return [Candidate("province", None, t.levels["maybe"], hits[0][2], ("shanxi", "shaanxi"))]
    if len(ids) == 1:
        return [Candidate("province", ids[0], max(h[1] for h in hits), hits[0][2])]
    return [Candidate("province", ids[0], t.levels["maybe"], hits[0][2], tuple(ids))]


@lru_cache(maxsize=1)
def _provinces() -> tuple[Any, ...]:
    from rules.provinces import all_provinces

    return tuple(all_provinces())


def _province_typos(msg: _Msg) -> list[Candidate]:
    """山希 -> 山西 (sounds the same, one character right); shanxii / guandong -> Latin near-misses."""
    t = msg.t
    runs = _uncovered_runs(msg)
    cjk = [(s, e) for s, e in runs if _cjk(msg.norm[s])]
    if cjk:
        table, by_sound = readings()
        for s, e in cjk:
            run = msg.norm[s:e]
            for size in (3, 2):
                for i in range(len(run) - size + 1):
                    window = run[i : i + size]
                    found = _sounds_like(window, table, by_sound)
                    if found:
                        msg.claimed.update(range(s + i, s + i + size))
                        return [Candidate("province", None, t.levels["maybe"], msg.span(s + i, s + i + size),
                                          tuple(found))]
        city = _city_typo(msg, cjk)
        if city:
            return city
    latin = [msg.norm[s:e] for s, e in runs if msg.norm[s].isascii() and msg.norm[s].isalpha()]
    words = [w for run in latin for w in run.split() if len(w) >= 5]
    if words:
        from rapidfuzz import fuzz, process

        for w in words:
            names = [n for n in t.latin_provinces if n[0] == w[0]]  # typos keep the first letter ("fanhui" is 返回)
            best = process.extract(w, names, scorer=fuzz.ratio, limit=3, score_cutoff=80)
            if best:
                ids = tuple(dict.fromkeys(t.latin_provinces[b[0]] for b in best))
                at = msg.norm.find(w)
                msg.claimed.update(range(at, at + len(w)))
                return [Candidate("province", None, t.levels["maybe"], w, ids)]
    return []


def _sounds_like(
    window: str, table: dict[str, tuple[str, ...]], by_sound: dict[tuple[str, ...], list[tuple[str, str]]]
) -> list[str]:
    options = [{r[:-1] for r in table.get(ch, ())} for ch in window]
    if not all(options):
        return []
    scored: dict[str, int] = {}
    for sound in itertools.product(*options):
        for pid, short in by_sound.get(sound, ()):
            same = sum(a == b for a, b in zip(window, short, strict=True))
            if 0 < same < len(short):
                pairs = zip(window, short, strict=True)
                tones = sum(bool(set(table.get(a, ())) & set(table.get(b, ()))) for a, b in pairs)
                scored[pid] = max(scored.get(pid, 0), same * 10 + tones)
    if not scored:
        return []
    best = sorted(scored, key=lambda p: -scored[p])
    sibling = {"shanxi": "shaanxi", "shaanxi": "shanxi"}.get(best[0])  # 山西 and 陕西 sound alike
    if sibling and sibling not in best:
        best.append(sibling)
    return best


def _city_typo(msg: _Msg, runs: list[tuple[int, int]]) -> list[Candidate]:
    """乌鲁木其 -> 乌鲁木齐: one wrong character in a city name of three characters or more (a lookup of
    the window with each character in turn wildcarded)."""
    t = msg.t
    wildcards = _city_wildcards()
    for s, e in runs:
        run = msg.norm[s:e]
        for size in (5, 4, 3):
            for i in range(max(0, len(run) - size + 1)):
                window = run[i : i + size]
                for j in range(size):
                    pids = wildcards.get(window[:j] + "?" + window[j + 1 :])
                    if pids:
                        msg.claimed.update(range(s + i, s + i + size))
                        return [Candidate("province", None, t.levels["maybe"], msg.span(s + i, s + i + size), pids)]
    return []


@lru_cache(maxsize=1)
def _city_wildcards() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, pid in tables().city_names.items():
        if len(name) > 5:
            continue
        for j in range(len(name)):
            ids = out.setdefault(name[:j] + "?" + name[j + 1 :], [])
            if pid not in ids:
                ids.append(pid)
    return {k: tuple(v) for k, v in out.items()}


def _uncovered_runs(msg: _Msg) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in msg.uncovered:
        ch = msg.norm[i]
        if not ch.isalnum() and ch != " ":
            continue
        if runs and runs[-1][1] == i and (_cjk(ch) == _cjk(msg.norm[runs[-1][0]])):
            runs[-1] = (runs[-1][0], i + 1)
        elif ch != " ":
            runs.append((i, i + 1))
    return [(s, e) for s, e in runs if msg.norm[s:e].strip()]


# -- industry ---------------------------------------------------------------------------------------


def _industry(msg: _Msg, amounts: list[Amount], asking: str | None) -> list[Candidate]:
    t = msg.t
    hits = [(tok, tok.roles.industry) for tok in msg.tokens if tok.roles.industry is not None]
    own = [h for h in hits if not _others(msg, h[0].start)]
    if hits and not own:  # only someone else's industry (给焦化厂做配套): offered, never stored
        theirs = tuple(dict.fromkeys(c for _, w in hits for c in w.codes))
        return [Candidate("industry_code", None, t.levels["weak"], msg.span(hits[0][0].start, hits[0][0].end), theirs)]
    hits = own
    if hits:
        codes = list(hits[0][1].codes)
        for _, word in hits[1:]:
            common = [c for c in codes if c in word.codes]
            codes = common if common else codes
        specific = [w for _, w in hits if set(w.codes) >= set(codes)]
        level = max(w.level for w in specific) if specific else t.levels["maybe"]
        all_codes = list(dict.fromkeys(c for _, w in hits for c in w.codes))
        span = msg.span(hits[0][0].start, hits[0][0].end)
        if any(not set(codes) & set(w.codes) for _, w in hits):
            return [Candidate("industry_code", None, t.levels["maybe"], span, tuple(all_codes))]
        if len(codes) == 1:
            return [Candidate("industry_code", codes[0], level, span)]
        return [Candidate("industry_code", None, min(level, t.levels["maybe"]), span, tuple(codes))]
    for a in amounts:
        raw = msg.norm[a.start : a.end]
        before = msg.norm[max(0, a.start - 4) : a.start]
        if a.kind == "bare" and raw.isdigit() and len(raw) == 4 and (asking == "industry_code" or "代码" in before):
            from rules.industries import get_class

            if get_class(raw) is not None:
                return [Candidate("industry_code", raw, 1.0, msg.span(a.start, a.end))]
    framed = _framed(msg)
    if framed is not None:
        s, e = framed
        options = _search(msg.norm[s:e])
        if options:
            return [Candidate("industry_code", None, t.levels["weak"], msg.span(s, e), options)]
    if asking == "industry_code":
        query = "".join(msg.norm[s:e] for s, e in _uncovered_runs(msg) if _cjk(msg.norm[s]))
        if len(query) >= 2:
            options = _search(query)
            if options:
                return [Candidate("industry_code", None, t.levels["weak"], query, options)]
    return []


# An audit's steps, never a trade: "2021年6月30日完成的" framed 完成 as a product (做…的) and offered 6020 快递服务.
_STEP_WORDS = re.compile(r"(已经|已|都)?(完成|做完|结束|开始|启动|开展|通过|公示|公布|公开|提交|报送|上报|验收|评估"
                         r"|审核|披露)(了|过)?")


def _framed(msg: _Msg) -> tuple[int, int] | None:
    """The first run of unknown words framed as a product or a trade: 做[活性炭]的, 生产[电线电缆]."""
    toks = msg.tokens
    ends = {tok.end: tok for tok in toks}
    starts = {tok.start: tok for tok in toks}
    for s, e in _uncovered_runs(msg):
        if not _cjk(msg.norm[s]) or not 2 <= e - s <= 10 or _STEP_WORDS.fullmatch(msg.norm[s:e]):
            continue
        before, after = ends.get(s), starts.get(e)
        if (before is not None and _has(before, "frame_before")) or (after is not None and _has(after, "frame_after")):
            return s, e
    return None


@lru_cache(maxsize=512)
def _search(query: str) -> tuple[str, ...]:
    from rules.industries import WEAK_TIER, search_tiers

    found = search_tiers(query, limit=5)
    if found and found[0][1] < WEAK_TIER:
        found = [(c, tier) for c, tier in found if tier < WEAK_TIER]  # guesses only when nothing better
    return tuple(c.code for c, _ in found)


# -- size -------------------------------------------------------------------------------------------


def _sizes(msg: _Msg, amounts: list[Amount], asking: str | None) -> list[Candidate]:
    t = msg.t
    people: list[tuple[float, float, str]] = []
    money: list[tuple[float, float, str]] = []
    designated: list[tuple[bool, float, str]] = []
    output = False  # an amount said as 产值: read as the revenue, asked back
    ranges: dict[str, tuple[float, float]] = {}  # a headcount's span -> (low, high) when said as a range
    starts = [tok.start for tok in msg.tokens]
    subsets = [tok.start for tok in msg.tokens if _has(tok, "subset")]
    for a in amounts:
        if any(p < a.start for p in subsets):
            continue  # 其中技术人员50人: a part, not the whole
        span = msg.span(a.start, a.end)
        k = bisect.bisect_left(starts, a.end)
        same_clause = k < len(msg.tokens) and msg.clause_at(msg.tokens[k].start) == msg.clause_at(a.start)
        nxt = msg.tokens[k] if same_clause else None
        unit_next = nxt is not None and _has(nxt, "emp_unit") and not msg.norm[a.end : nxt.start].strip()
        if unit_next and nxt is not None:
            span = msg.span(a.start, nxt.end)
        key = _key_before(msg, a, k) or _key_after(msg, k + 1 if unit_next else k, msg.clause_at(a.start))
        if key == "out_key":
            key = "rev_key"
            if not output:
                output = True
                span = _output_span(msg, a) or span
        bound = _bound(msg, a, k, unit_next)
        if bound is not None and _is_revenue(a, key, asking):
            # 不到两千万 / 快两千万了 is 规下, 三千万以上 规上, whatever the exact amount
            level = t.levels["sure"] if key == "rev_key" or asking in _REVENUE_QUESTIONS else t.levels["likely"]
            yuan_10k = a.value / 10_000 if a.kind == "money" else a.value
            if bound == "below" and yuan_10k <= DESIGNATED_SIZE_REVENUE:
                designated.append((False, level, span))
            elif bound == "above" and yuan_10k >= DESIGNATED_SIZE_REVENUE:
                designated.append((True, level, span))
        if bound == "below":
            continue  # 不到300人: less than 300, how much less is asked
        sure = t.levels["likely"] if bound == "above" else t.levels["maybe"] if a.ranged else t.levels["sure"]
        around = a.around or _around(msg, a, k, unit_next)
        if a.kind == "people_mult" or (unit_next and a.kind == "bare"):
            if a.ranged and a.high is not None and a.high > a.value:  # 两三百人: the class decides the level
                ranges[span] = (a.value, a.high)
                one_band = _band(a.value) == _band(a.high)
                sure = t.levels["sure"] if one_band and bound is None else t.levels["maybe"]
                # the range says how vague it is; "about" a range that starts near a bound (大概三五百人) is asked
                people.append((a.value, _vague(sure, _around(msg, a, k, unit_next), a.value, EMPLOYEE_BOUNDS, t),
                               span))
                continue
            people.append((a.value, _vague(sure, around, a.value, EMPLOYEE_BOUNDS, t), span))
        elif a.kind == "money":
            if key == "not_rev":
                continue
            asked = key == "rev_key" or asking in _REVENUE_QUESTIONS
            level = _vague(sure, around, a.value / 10_000, _REVENUE_BOUNDS, t)
            money.append((a.value / 10_000, level if asked else min(level, t.levels["likely"]), span))
        elif a.kind == "bare":
            if key == "emp_key" or (key is None and asking == "employees"):
                if (a.value == int(a.value) and 0 < a.value < _MAX_EMPLOYEES and not a.chinese) or a.value >= 10:
                    people.append((a.value, _vague(t.levels["sure"], around, a.value, EMPLOYEE_BOUNDS, t), span))
            elif key == "rev_key":
                level = _vague(t.levels["sure"], around, a.value, _REVENUE_BOUNDS, t)
                money.append((a.value, level if asking in _REVENUE_QUESTIONS else min(level, t.levels["likely"]), span))
            elif key is None and asking in _REVENUE_QUESTIONS:
                money.append((a.value, _vague(t.levels["sure"], around, a.value, _REVENUE_BOUNDS, t), span))
    out = []
    for fact, found in (("employees", people), ("revenue_10k_yuan", money)):
        if found:
            values = list(dict.fromkeys(v for v, _, _ in found))
            value = values[0]
            value = int(value) if value == int(value) else round(value, 4)
            level = found[0][1] if len(values) == 1 else t.levels["maybe"]
            if fact == "revenue_10k_yuan" and output:
                out.append(Candidate(fact, value, min(level, t.levels["likely"]), found[0][2], note=OUTPUT_VALUE))
            elif fact == "employees" and len(values) == 1 and found[0][2] in ranges:
                low, high = (int(x) if x == int(x) else x for x in ranges[found[0][2]])
                out.append(Candidate(fact, value, level, found[0][2], (low, high), note=RANGE))
            else:
                out.append(Candidate(fact, value, level, found[0][2]))
    if designated and not money and len({v for v, _, _ in designated}) == 1:
        level = min(designated[0][1], t.levels["likely"]) if output else designated[0][1]
        out.append(Candidate("above_designated_size", designated[0][0], level, designated[0][2],
                             note=OUTPUT_VALUE if output else ""))
    return out


def _band(people: float) -> int:
    """The size band a headcount alone reaches (0 micro .. 3 large: 20, 300 and 1000 employees)."""
    return sum(people >= b for b in EMPLOYEE_BOUNDS)


def _output_span(msg: _Msg, a: Amount) -> str | None:
    """年产值三个多亿 / 5个亿的产值: the amount with the output-value word next to it in its clause."""
    clause = msg.clause_at(a.start)
    near = [tok for tok in msg.tokens if _has(tok, "output") and msg.clause_at(tok.start) == clause]
    if not near:
        return None
    tok = min(near, key=lambda x: min(abs(x.start - a.end), abs(a.start - x.end)))
    return msg.span(min(tok.start, a.start), max(tok.end, a.end))


def _is_revenue(a: Amount, key: str | None, asking: str | None) -> bool:
    if key in ("emp_key", "not_rev"):
        return False
    return a.kind == "money" or (a.kind == "bare" and (key == "rev_key" or asking in _REVENUE_QUESTIONS))


_REVENUE_BOUNDS = (*REVENUE_BOUNDS, DESIGNATED_SIZE_REVENUE)
_NEAR_BOUND = 0.15  # "about 300": within 15% of a size bound, the side of the bound is not known


def _vague(level: float, around: bool, value: float, bounds: tuple[float, ...], t: Tables) -> float:
    """An amount said to be "about" a number near a size bound (三百来人, 两千万左右) is asked back:
    the class it decides (medium from 300 people, 规上 from 2000万元) could fall either side."""
    if around and any(abs(value - b) <= _NEAR_BOUND * b for b in bounds):
        return min(level, t.levels["maybe"])
    return level


def _around(msg: _Msg, a: Amount, k: int, unit_next: bool) -> bool:
    """An "about" word right before the amount (大概, 约) or right after it (左右, 上下)."""
    toks = msg.tokens
    if k > 0 and not msg.norm[toks[k - 1].end : a.start].strip():
        kinds = toks[k - 1].roles.kinds
        if "approx" in kinds and "below" not in kinds and "above" not in kinds:
            return True
    after = k + 1 if unit_next else k
    if after < len(toks) and not msg.norm[(toks[after - 1].end if unit_next else a.end) : toks[after].start].strip():
        kinds = toks[after].roles.kinds
        return "approx" in kinds and "below" not in kinds and "above" not in kinds
    return False


def _bound(msg: _Msg, a: Amount, k: int, unit_next: bool) -> str | None:
    """"below" for 不到300人 / 300人以下, "above" for 300人以上 / 超过300人, else None."""
    toks = msg.tokens
    if k > 0 and not msg.norm[toks[k - 1].end : a.start].strip():
        kinds = toks[k - 1].roles.kinds
        if "below" in kinds:
            return "below"
        if ("above" in kinds and "exceed" not in kinds) or toks[k - 1].word in ("超过", "over"):
            return "above"
    after = k + 1 if unit_next else k
    if after < len(toks) and not msg.norm[(toks[after - 1].end if unit_next else a.end) : toks[after].start].strip():
        kinds = toks[after].roles.kinds
        if "below" in kinds:
            return "below"
        if "above" in kinds:
            return "above"
    return None


def _key_after(msg: _Msg, k: int, clause: int) -> str | None:
    """A size word right after an amount ("5000万的营收", "2 billion yuan revenue")."""
    toks = msg.tokens
    while k < len(toks) and toks[k].roles.kinds <= _INERT and toks[k].roles.kinds:
        k += 1
    if k < len(toks) and msg.clause_at(toks[k].start) == clause:
        for kind in ("not_rev", "rev_key"):
            if kind in toks[k].roles.kinds:
                return "out_key" if "output" in toks[k].roles.kinds else kind
    return None


def _key_before(msg: _Msg, a: Amount, k: int) -> str | None:
    """The nearest size word before an amount in its clause: emp_key, rev_key or not_rev."""
    clause = msg.clause_at(a.start)
    j = k - 1
    while j >= 0 and msg.clause_at(msg.tokens[j].start) == clause and a.start - msg.tokens[j].end <= 10:
        tok = msg.tokens[j]
        for kind in ("not_rev", "rev_key", "emp_key"):
            if kind in tok.roles.kinds:
                return "out_key" if "output" in tok.roles.kinds else kind
        j -= 1
    return None


# -- dates ------------------------------------------------------------------------------------------


def _dates(msg: _Msg, dates: list[DateHit], asking: str | None, notes: dict[str, bool],
           doubted: _Doubt | None = None) -> list[Candidate]:
    keys = [(tok, tok.roles.date_facts, tok.roles.date_strong) for tok in msg.tokens if tok.roles.date_facts]
    out: dict[str, Candidate] = {}
    weak_audit = False  # the last audit's day bound by a weak word only (19年做过一次审核)
    for n, d in enumerate(dates):
        clause = msg.clause_at(d.start)
        near = [k for k in keys if msg.clause_at(k[0].start) == clause]
        facts: tuple[str, ...] = ()
        level = d.level
        if doubted is not None and (n in doubted.dates or n in doubted.unknown_dates):
            level = min(level, msg.t.levels["likely"])  # 好像是去年4月15日: asked back, never stored as said
        if near:
            strong = [k for k in near if k[2]] or near
            best = min(strong, key=lambda k: min(abs(k[0].start - d.end), abs(d.start - k[0].end)))
            facts = best[1]
            if facts == ("last_audit_completed_on",) and not best[2] and "last_audit_completed_on" not in out:
                weak_audit = True
        elif asking in DATE_FACTS:
            facts = (asking,)
            # "19年做的，21年验收" at the last-audit question: no word says the audit's year completed it
            weak_audit = weak_audit or (asking == "last_audit_completed_on" and asking not in out)
        elif len({f for k in keys if k[2] for f in k[1]}) == 1:
            facts = next(k[1] for k in keys if k[2])
            level = min(level, msg.t.levels["likely"])
        if not facts:
            if d.partial is None or len(d.partial) > 4:  # a year alone (今年营收…) says no date of a step
                notes["rest"] = True
            continue
        value = d.value.isoformat() if d.value else None
        for fact in facts:
            if fact not in out:
                out[fact] = Candidate(fact, value, level, msg.span(d.start, d.end), (), d.partial)
    audit = out.get("last_audit_completed_on")
    if audit is not None and weak_audit and ("accepted_on" in out or "evaluated_on" in out):
        # "19年做过一次审核，21年验收的": a round is completed when its report is submitted (rules/READINGS.md),
        # and whether the audit's year is that day or its start is not said: the day is asked, saying why
        out["last_audit_completed_on"] = dataclasses.replace(
            audit, confidence=min(audit.confidence, msg.t.levels["likely"]), note=ROUND_DAY)
    return list(out.values())


_BARE_YEAR = re.compile(r"\s*((?:19|20)\d{2})\s*")


def _bare_year(norm: str) -> list[DateHit]:
    """"2021" typed alone at a date question: a year, whose month and day are asked."""
    m = _BARE_YEAR.fullmatch(norm)
    return [DateHit(m.start(1), m.end(1), None, m.group(1), MAYBE)] if m else []


# -- the whole message ------------------------------------------------------------------------------


def _clauses(msg: _Msg) -> Iterable[list[int]]:
    current: list[int] = []
    last = None
    for i, c in enumerate(msg.clause_of):
        if last is not None and c != last:
            yield current
            current = []
        current.append(i)
        last = c
    if current:
        yield current


def _polarity(msg: _Msg, asking: str | None) -> tuple[bool | None, bool]:
    """(polarity, hedged). A clause answers yes/no when all its words are yes/no words, negations,
    fillers, or fact words of the question asked; clauses that answer must agree."""
    uncovered_clauses = {msg.clause_at(i) for i in msg.uncovered if msg.norm[i].isalnum()}
    exceed_ok = asking is None or asking in {"exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit"}
    answers: list[bool] = []
    hedged = False
    for idx in _clauses(msg):
        if msg.clause_of[idx[0]] in uncovered_clauses:
            continue
        items: list[tuple[str, str] | bool] = []
        pure = True
        clause_hedged = False
        for i in idx:
            tok = msg.tokens[i]
            kinds = tok.roles.kinds
            if "question" in kinds:  # 超标？ asks back, it does not answer
                pure = False
                break
            if tok.word in _CLAUSE_MARKS:
                continue
            asked = [tm for tm in tok.roles.terms if asking is not None and (tm.fact == asking or asking in tm.answers)]
            if asked:
                v = asked[0].value
                items.append(bool(v) if isinstance(v, bool | list) else True)
            elif "term" in kinds or "industry" in kinds or "place" in kinds or "question" in kinds:
                pure = False
                break
            elif "exceed" in kinds and exceed_ok:
                items.append(("yes", tok.word))
            elif "neg" in kinds or "no" in kinds or ("none" in kinds and _negative(tok.word)):
                items.append(("neg", tok.word))
            elif "yes" in kinds:
                items.append(("yes", tok.word))
            elif "hedge" in kinds:
                clause_hedged = True
            elif kinds <= _INERT and kinds:
                continue
            else:
                pure = False
                break
        if not pure or not items:
            continue
        if clause_hedged:
            hedged = True
            continue
        answers.append(_answer(items))
    if not answers or len(set(answers)) > 1:
        return None, hedged
    # a clause elsewhere stating the asked fact the other way makes the answer unclear
    return answers[0], hedged


def _answer(items: list[tuple[str, str] | bool]) -> bool:
    """不是不超 / 没有没超: negations flip a yes after them. Negations alone repeat a no (没有没有, 不不不),
    except 不是没有 (= there is some)."""
    last = items[-1]
    negs = [x for x in items[:-1] if isinstance(x, tuple) and x[0] == "neg"]
    if isinstance(last, tuple) and last[0] == "neg":
        before = items[-2] if len(items) > 1 else None
        return isinstance(before, tuple) and before[1].endswith("不是") and last[1] != before[1]
    value = last if isinstance(last, bool) else True
    return value ^ (len(negs) % 2 == 1)


def _negative(word: str) -> bool:
    """还没有, 尚未, never: a "not yet" word is also a no (第一次 is not)."""
    return any(ch in word for ch in "没未无不") or word.startswith(("never", "not", "none"))


def _unknown(msg: _Msg) -> bool:
    words = [tok for tok in msg.tokens if _has(tok, "unknown")]
    if not words:
        return False
    if all(tok.word in _QUESTION_ONLY for tok in words):
        return all(_has(tok, "filler") or tok.word in _QUESTION_ONLY for tok in msg.tokens) and not any(
            msg.norm[i].isalnum() for i in msg.uncovered
        )
    return True


def _none(msg: _Msg) -> bool:
    toks = msg.tokens
    for i, tok in enumerate(toks):
        if _has(tok, "none"):
            later = [x for x in toks[i + 1 :] if msg.clause_at(x.start) == msg.clause_at(tok.start)]
            if not any(x.roles.terms or _has(x, "exceed") for x in later):
                return True
        if _has(tok, "neg", "no"):
            j = i + 1
            while j < len(toks) and _skippable(toks[j]) and msg.clause_at(toks[j].start) == msg.clause_at(tok.start):
                j += 1
            if j < len(toks) and toks[j].roles.date_facts and _adjacent(msg, toks[j - 1], toks[j]):
                return True
    return False


def _rest(msg: _Msg, amounts: list[Amount], found: list[Candidate]) -> bool:
    meaningful = [i for i in msg.uncovered if msg.norm[i].isalnum() and i not in msg.claimed]
    if len(meaningful) >= 2:
        return True
    used = {c.span for c in found}
    return bool(meaningful) or any(not any(msg.span(a.start, a.end) in u for u in used) for a in amounts)
