"""Questions about the documents themselves: "山东的细则现在还有效吗？", "适用哪些文件", "is the Shandong rule
still in force". Answered from the rule packs (title, issuer, 文号, dates, what each lays down, its status
on the day); `answer_document_question` returns None for any other message. Pure: no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache

from handlers.status import in_documents_language, original
from rules import Pack, default_packs
from rules.i18n import N_, Gettext
from rules.provinces import find_province, get_province

# Words that name a document, by the kind of title they pick out ("" = any document).
DOC_WORDS: dict[str, str] = {
    "细则": "细则", "实施细则": "细则", "暂行办法": "暂行办法", "办法": "办法", "方案": "方案", "实施方案": "方案",
    "通知": "通知", "促进法": "促进法", "文件": "", "规定": "", "法规": "", "政策": "", "法律": "促进法",
    "rules": "细则", "rule": "细则", "regulation": "", "regulations": "", "measures": "办法", "plan": "方案",
    "notice": "通知", "document": "", "documents": "", "law": "促进法",
}
VALIDITY_WORDS = (
    "有效", "过期", "失效", "废止", "作废", "还能用", "还在用", "还适用", "还管用", "生效", "施行", "实施日期",
    "有效期", "现行", "到期", "in force", "valid", "expired", "expire", "still apply", "still applies", "effective",
    "repealed", "current",
)
APPLICABLE_PHRASES = (
    "适用哪些", "适用的文件", "适用什么", "适用哪个", "哪些文件", "什么文件", "哪个文件", "依据哪些", "依据什么文件",
    "按哪些文件",
    "which documents", "what documents", "which rules apply", "documents apply", "documents applied",
    "which regulations", "what rules apply",
)
NATIONAL_WORDS = ("国家", "全国", "national", "促进法")
_WORD_RE = re.compile(r"[a-z]+")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def _has_word(t: str, word: str) -> bool:
    if word not in t:  # most messages name none of these words: no pattern to match
        return False
    if word.isascii():
        return _bounded(word).search(t) is not None
    return True


@cache
def _bounded(word: str) -> re.Pattern[str]:
    """The English word as a whole word (the lists above are fixed: compiled once each)."""
    return re.compile(rf"\b{re.escape(word)}\b")


def answer_document_question(text: str, province: str | None, as_of: date, tr: Gettext) -> str | None:
    """The answer to a question about which documents apply or whether one is in force on `as_of`, for the
    province named in the text or else `province` (the contact's); None when the text is not such a question."""
    t = _normal(text)
    doc_words = [w for w in DOC_WORDS if _has_word(t, w)]
    listing = any(_has_word(t, p) for p in APPLICABLE_PHRASES)
    validity = any(_has_word(t, w) for w in VALIDITY_WORDS)
    if not listing and not (doc_words and validity):
        return None
    named = find_province(text)
    pid = named.id if named is not None else province
    packs = default_packs()
    if listing and not validity:
        return _applicable(packs, pid, as_of, tr)
    national = any(_has_word(t, w) for w in NATIONAL_WORDS)
    kinds = {DOC_WORDS[w] for w in doc_words if DOC_WORDS[w]}
    if national and named is None:
        chosen = [p for p in packs if p.national]
    else:
        chosen = [p for p in packs if not p.national and p.jurisdiction == pid] if pid else []
        if not chosen and pid is not None:
            return _no_pack(packs, pid, as_of, tr)
        if not chosen:
            return tr(N_("Which province do you mean? For example: is the Shandong rule still in force?"))
    narrowed = [p for p in chosen if any(k in p.title for k in kinds)]
    if kinds and "办法" in kinds and "暂行办法" not in kinds:
        narrowed = [p for p in narrowed if "暂行办法" not in p.title] or narrowed
    parts = [_describe(p, as_of, tr, packs) for p in (narrowed or chosen)]
    return "\n\n".join(parts)


def _applicable(packs: Sequence[Pack], pid: str | None, as_of: date, tr: Gettext) -> str:
    national = [p for p in packs if p.national and p.in_force(as_of)]
    own = [p for p in packs if pid is not None and not p.national and p.jurisdiction == pid]
    if pid is None:
        head = tr(N_("On {as_of} these national documents apply everywhere; tell me your province for its own "
                     "documents:")).format(as_of=as_of.isoformat())
    else:
        head = tr(N_("Documents for an enterprise in {province} on {as_of}:")).format(
            province=_province_name(pid, tr), as_of=as_of.isoformat())
    lines = [head]
    for p in national + own:
        lines.append(tr(N_("• {title}: {status}")).format(title=p.title, status=_status(p, as_of, tr)))
    if pid is not None and not own:
        lines.append(tr(N_("No provincial document is loaded for {province}: its enterprises are judged under the "
                           "national documents alone.")).format(province=_province_name(pid, tr)))
    elif own and not any(p.in_force(as_of) for p in own):
        lines.append(tr(N_("No document of {province} is in force on {as_of}: the verdict follows the national "
                           "documents alone.")).format(province=_province_name(pid or "", tr),
                                                       as_of=as_of.isoformat()))
    lines.append(tr(N_("A deadline follows the documents in force on the day its clock started (the list's "
                       "publication).")))
    return "\n".join(lines)


def _no_pack(packs: Sequence[Pack], pid: str, as_of: date, tr: Gettext) -> str:
    titles = tr(N_(", ")).join(p.title for p in packs if p.national and p.in_force(as_of))
    return tr(N_("No provincial document is loaded for {province}: its enterprises are judged under the national "
                 "documents alone ({titles}).")).format(province=_province_name(pid, tr), titles=titles)


def _province_name(pid: str, tr: Gettext) -> str:
    p = get_province(pid)
    return p.name if in_documents_language(tr) or not p.aliases else p.aliases[0]


def _status(p: Pack, as_of: date, tr: Gettext) -> str:
    start = p.effective_from.isoformat() if p.effective_from else ""
    end = p.effective_until.isoformat() if p.effective_until else ""
    if p.effective_from is not None and as_of < p.effective_from:
        return tr(N_("not yet in force on {as_of}: it takes effect on {start}")).format(
            as_of=as_of.isoformat(), start=start)
    if p.effective_until is not None and as_of > p.effective_until:
        return tr(N_("expired: in force from {start} to {end}, so no longer in force on {as_of}")).format(
            start=start or "?", end=end, as_of=as_of.isoformat())
    if p.period_end is not None and as_of > p.period_end:
        return tr(N_("in force; its planning period ended on {end} and no successor is loaded, so it still "
                     "applies")).format(end=p.period_end.isoformat())
    if p.effective_from is None:
        return tr(N_("in force: the text carries no date, so it is treated as in force"))
    if end:
        return tr(N_("in force from {start} to {end}")).format(start=start, end=end)
    return tr(N_("in force since {start}")).format(start=start)


def _describe(p: Pack, as_of: date, tr: Gettext, packs: Sequence[Pack]) -> str:
    number = original(p.number, tr) if p.number else tr(N_("the text carries no document number (文号)"))
    lines = [tr(N_("{title}, issued by {issuer}; {number}.")).format(
        title=p.title, issuer=original(p.issuer, tr), number=number)]
    cited = p.validity_citation.strip()
    if cited.startswith("（") and cited.endswith("）") and cited.count("（") == 1:
        cited = cited[1:-1]  # already a parenthesis in the pack: not two of them
    validity = tr(N_(" (set by {citation})")).format(citation=original(cited, tr)) if cited else ""
    lines.append(tr(N_("Status on {as_of}: {status}{validity}.")).format(
        as_of=as_of.isoformat(), status=_status(p, as_of, tr), validity=validity))
    laid = [
        (N_("its mandatory grounds"), [g.citation for g in p.grounds]),
        (N_("its deadlines"), [d.citation for d in p.deadlines]),
        (N_("where to report under it"), [r.citation for r in p.report_to]),
        (N_("its voluntary programme"), [v.citation for v in p.voluntary if v.programme]),
    ]
    said = [tr(N_("{what} {articles}")).format(what=tr(what), articles=original("、".join(dict.fromkeys(c)), tr))
            for what, c in laid if c]
    if said:
        lines.append(tr(N_("What it lays down: {items}.")).format(items=tr(N_("; ")).join(said)))
    if p.effective_until is not None and as_of > p.effective_until:
        after = (p.effective_until + timedelta(days=1)).isoformat()
        lines.append(tr(N_("It still governs the deadlines of a list published on or before {end} (their clock "
                           "started while it was in force). For anything from {after} on, the national documents "
                           "alone apply ({titles}).")).format(
            end=p.effective_until.isoformat(), after=after,
            titles=tr(N_(", ")).join(x.title for x in packs if x.national and x.in_force(as_of))))
    return "\n".join(lines)
