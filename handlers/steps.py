"""Steps said done (or not yet) in the contact's own words, after the verdict: 我们已经公示了, 上周在网上公示了,
报告3月份交了, 验收过了, 评估通过了, 还没开始, "we published the information yesterday".

Pure reading: the text and today in, a `StepSaid` (which milestone kind, done or not, the day said and how sure
it is, a link) out, or None when the message says no step. A question ("公示什么内容？"), a message about the
list (名单 …: the interview reads it) and a message naming two different steps are none. The days are read by
`handlers.extract_numbers.find_dates`, the interview's own reader, so 昨天, 11月20日, 上个月 and "20 November 2026"
mean here what they mean there; a time without a day (上周, 最近, 3月份) is kept as vague and asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.extract_numbers import find_dates
from handlers.parse import normalize

URL = re.compile(r"https?://[^\s<>\"']{1,500}", re.IGNORECASE)

SURE = 0.95  # handlers.extract_numbers: a day read with its year

# (kind, pattern) in the order tried: the first kind whose pattern is found is the step meant.
_ZH_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("env_disclosure", re.compile(r"披露|环境信息")),
    ("acceptance", re.compile(r"验收")),
    ("evaluation", re.compile(r"评估")),
    ("report", re.compile(r"报告.{0,14}(交|报送|提交|上报|报上|递交|报了|送)"
                          r"|(交|报送|提交|上报|报上去|递交)了?.{0,4}报告"
                          r"|审核.{0,16}(做完|完成|结束|搞完|弄完)|(做完|完成|结束)了?.{0,4}审核")),
    ("start", re.compile(r"审核.{0,4}(开始|启动|开展|在做|进行|做了|做着)|(开始|启动|开展|在做|正在做)了?.{0,4}审核"
                         r"|委托了?.{0,6}机构|(签|找)了?.{0,4}(审核|咨询)?机构"
                         r"|^(已经|都|早就)?(开始|启动|开展)了|^还没(有)?(开始|启动|开展)")),
    ("disclosure", re.compile(r"公示|公布|公开|挂网|登报|发布")),
)
_EN_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("env_disclosure", re.compile(r"environmental information|annual disclosure|yearly disclosure")),
    ("acceptance", re.compile(r"accept")),
    ("evaluation", re.compile(r"evaluat")),
    ("report", re.compile(r"report\b.{0,20}\b(submitted|handed in|filed|sent)|\b(submitted|handed in|filed|sent)\b"
                          r".{0,20}\breport|audit.{0,10}\b(completed|finished|done)|\b(completed|finished)\b.{0,10}"
                          r"\baudit")),
    ("start", re.compile(r"\b(started|began|begun|launched|starting)\b|\baudit (is )?(under ?way|in progress)")),
    ("disclosure", re.compile(r"\b(published|disclosed|made public|posted)\b")),
)
_ZH_NOT = re.compile(r"还没|没有|尚未|未曾|还未|^未|还不|还在准备"
                     r"|没(公示|公布|交|报|开始|启动|开展|做|评估|验收|披露|通过)")
_EN_NOT = re.compile(r"\b(not yet|haven't|have not|hasn't|has not|didn't|did not|not started|not been|yet to)\b")
_ZH_DONE = re.compile(r"了|已|过|完|通过|好|交|在做|进行|正在|办|的(?=$|[，。,.!！\s])")
_ZH_NO_MATTER = re.compile(r"没(有)?(什么)?问题|没毛病")
_EN_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                           "dec"), start=1)}
_EN_MONTH_NAME = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_EN_DAY_MONTH = re.compile(rf"\b(?P<d1>3[01]|[12]\d|0?[1-9])(st|nd|rd|th)?( of)? (?P<m1>{_EN_MONTH_NAME})(?!\w)"
                           rf"|\b(?P<m2>{_EN_MONTH_NAME}) (?P<d2>3[01]|[12]\d|0?[1-9])(st|nd|rd|th)?\b")
_EN_DAYS = {"the day before yesterday": -2, "yesterday": -1, "today": 0}
_ZH_LIST = re.compile(r"名单|列入|上榜")
# 公布 with a day and none of these is as likely the list's publication (名单公布) as the enterprise's own
_ZH_OWN_PUBLISHING = re.compile(r"公示|公开|挂网|登报|信息|网|媒体|报纸|公众号|我们|我司|企业|公司|厂里|自己")
_ZH_PERIOD = re.compile(r"(公示|公布|公开|披露|审核|验收|评估)期|期限|截止")
_EARLIER_ROUND = re.compile(r"上一轮|上轮|上次|上一次|前一轮|第一轮|previous|last round|last audit")
_EN_LIST = re.compile(r"\blist(ed)?\b")
_ZH_VAGUE = re.compile(r"上周|上星期|上礼拜|前几天|前些天|最近|前段时间|前阵子|之前|早就|早已|几天前|前一阵")
_EN_VAGUE = re.compile(r"\b(last week|recently|a few days ago|some time ago|earlier|a while ago|last month)\b")
_ZH_QUESTION = ("吗", "么", "多少", "怎么", "为什么", "什么", "谁", "哪", "几", "要不要", "需不需要", "是不是",
                "行不行", "会不会", "能不能", "可不可以", "如何", "是否")
_EN_QUESTION = re.compile(r"^(what|when|who|where|which|how|is|are|do|does|did|can|could|should|must|will)\b")


@dataclass(frozen=True, slots=True)
class StepSaid:
    kind: str                 # a milestone kind (handlers.status.KIND_LABELS)
    done: bool                # said done (or under way, for the start); False: said not done yet
    day: date | None = None   # the day said, read with its year (昨天, 2026年11月20日)
    guess: date | None = None  # a day to confirm: the year assumed (11月20日) or a month's last day (上个月底)
    month: str | None = None  # "YYYY-MM" (or "YYYY"): said without the day (上个月, 3月份)
    vague: bool = False       # a time said without any day (上周, 最近, "last week")
    evidence: str | None = None  # a link given with it


def about_list(text: str) -> bool:
    """The message speaks of the list (名单, listed): its days are the interview's."""
    t = normalize(text or "")
    return bool(_ZH_LIST.search(t) or _EN_LIST.search(t.lower()))


def is_question(text: str) -> bool:
    t = normalize(text).strip()
    if t.endswith(("?", "？")):
        return True
    if any("\u3400" <= ch <= "\u9fff" for ch in t):
        return any(w in t for w in _ZH_QUESTION)
    return bool(_EN_QUESTION.match(t))


def read_step(text: str, today: date) -> StepSaid | None:
    """The step the message says done or not yet, or None (see the module)."""
    raw = text or ""
    link = URL.search(raw)
    t = normalize(URL.sub(" ", raw)).strip()
    if not t or is_question(t):
        return None
    chinese = any("\u3400" <= ch <= "\u9fff" for ch in t)
    if (_ZH_LIST if chinese else _EN_LIST).search(t):
        return None
    kinds = _ZH_KINDS if chinese else _EN_KINDS
    found = [(m.start(), kind) for kind, rx in kinds for m in [rx.search(t)] if m is not None]
    if not found:
        return None
    kind = found[0][1]
    if _ZH_PERIOD.search(t):
        return None  # 公示期过了, 期限快到了: the period, not the step
    if kind in ("report", "start") and _EARLIER_ROUND.search(t.lower()):
        return None  # 上一轮审核是…完成的: the last audit, a fact the interview reads
    if kind in ("env_disclosure", "disclosure") and len(found) == 2 and {k for _, k in found} == {
            "env_disclosure", "disclosure"}:
        pass  # 环境信息公开了: one step, the yearly disclosure
    elif len({k for _, k in found}) > 1:
        return None  # two steps in one message: not guessed
    negated = bool(_ZH_NOT.search(_ZH_NO_MATTER.sub("", t)) if chinese else _EN_NOT.search(t))
    if not negated and chinese and not _ZH_DONE.search(t):
        return None  # "公示" alone says nothing done
    when = read_when(t, today)
    if chinese and kind == "disclosure" and when.said and not _ZH_OWN_PUBLISHING.search(t):
        return None  # "不对，是去年4月15日公布的": the list's day as much as ours; the interview asks it back
    return StepSaid(kind, not negated, when.day, when.guess, when.month, when.vague, link.group(0) if link else None)


@dataclass(frozen=True, slots=True)
class When:
    day: date | None = None
    guess: date | None = None
    month: str | None = None
    vague: bool = False

    @property
    def said(self) -> bool:
        return self.day is not None or self.guess is not None or self.month is not None or self.vague


NO_TIME = When()


def read_when(text: str, today: date) -> When:
    """The first time the message names: a day read with its year, a day to confirm, a month, or a vague time."""
    t = normalize(URL.sub(" ", text or "")).strip()
    chinese = any("\u3400" <= ch <= "\u9fff" for ch in t)
    for hit in find_dates(t, today):
        if t[max(0, hit.start - 2):hit.start].endswith(("不是", "不", "非")):
            continue  # 不是今天，是11月28日: the day denied is not the day
        if hit.value is not None and hit.partial is None and hit.level >= SURE:
            return When(day=hit.value)
        if hit.value is not None:
            return When(guess=hit.value)
        return When(month=hit.partial)
    if not chinese:
        lower = t.lower()
        m = _EN_DAY_MONTH.search(lower)
        if m is not None:  # "25 November", "Nov 25": the year is assumed, so the day is a guess to confirm
            month = _EN_MONTHS[(m.group("m1") or m.group("m2"))[:3]]
            try:
                return When(guess=date(today.year, month, int(m.group("d1") or m.group("d2"))))
            except ValueError:
                pass
        for word, n in _EN_DAYS.items():
            if re.search(rf"\b{word}\b", lower):
                return When(day=today + timedelta(days=n))
    return When(vague=bool((_ZH_VAGUE if chinese else _EN_VAGUE).search(t.lower())))
