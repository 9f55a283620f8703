"""Questions a contact asks about its own duties once it has a verdict, in its own words: when things are due
(什么时候要交报告, 还来得及吗, 已经晚了怎么办, 下一轮什么时候, "when is the report due"), where the report goes (报给谁,
哪个部门, "who do we report to"), what to publish (公示什么内容, "what do we have to disclose") and the yearly
environmental-information disclosure (环境信息依法披露什么时候).

Whether the audit can be skipped (能不能不做, "do we have to") is answered from the verdict
(`optional_answer`). `topic` reads which of these a question is (None for anything else, and for a
statement: 我们已经公示了 is a step said done, handlers.steps); `answer` gives the part of the verdict that
answers it. Deadline questions are answered by 我的期限 itself (the dispatcher's status, from the stored
milestones).
"""

from __future__ import annotations

import re

from handlers.offices import render_offices
from handlers.parse import normalize
from handlers.render import render_duties
from handlers.status import original
from handlers.steps import is_question
from rules.engine import Assessment, DutyHit
from rules.i18n import N_, Gettext

# (topic, Chinese pattern, English pattern), tried in this order.
_TOPICS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    ("optional", re.compile(r"(能|可以|可)(不能|否|不可以)?不(做|审|审核|搞|弄|开展|参加|实施)(?!什么|哪些|啥|哪)"
                            r"|(不做|不审核|不搞)(行不行|可以吗|行吗|可不可以)"
                            r"|(必须|一定|非得|非要|是否必须|是不是必须|是不是一定|一定得)(要)?(做|审核|开展|搞|实施|参加)"
                            r"(?!什么|哪些|啥|哪)"
                            r"|非做不可|(是|算)(不是)?强制(的|性)?(吗|审核吗)?$|是强制的吗|强制的吗|能(不能)?免|可以免|自愿的吗"),
     re.compile(r"^(do|must) we (have to |need to )?(do (it|this|that|the audit|an audit)|audit|(carry out|conduct) "
                r"(it|the audit|an audit))\b|^(do|must) we (have|need) to\??$"
                r"|\bis (it|the audit|this|this audit|an audit) (mandatory|compulsory|required|optional|voluntary)\b"
                r"|\bcan we (skip|avoid|refuse|opt out of) (it|this|the audit|auditing)\b"
                r"|\bcan we not (do it|audit)\b")),
    ("env", re.compile(r"依法披露|环境信息|年度披露|年报|披露"),
     re.compile(r"environmental information|annual disclosure|yearly disclosure|disclosure system")),
    ("offices", re.compile(r"(报|交|送|递|提交|报送|上报)(给|到|去)?(谁|哪|什么部门|什么单位)|向(谁|哪)"
                           r"|哪个部门|哪些部门|什么部门|哪个单位|主管部门是|找谁|哪个局"),
     re.compile(r"\bwho\b.{0,30}\b(report|submit|send|tell)|\b(report|submit|send)\b.{0,30}\bto (whom|who)\b"
                r"|\bwhich (office|department|authority|bureau)|\bwhere\b.{0,20}\b(report|submit|send)")),
    ("fields", re.compile(r"(公示|公布|公开|披露)(些)?(什么|哪些|啥)|(公示|公布|公开)(的)?内容"
                          r"|需(要)?(公示|公布)的(信息|内容)|(什么|哪些)(信息|内容)"),
     re.compile(r"\bwhat\b.{0,30}\b(disclose|publish|make public)|\bwhat information\b")),
    ("deadline", re.compile(r"期限|截止|什么时候|何时|哪天|几号|多久|来得及|来不及|晚了|迟了|逾期|过期|超期"
                            r"|延期|推迟|延迟|宽限|下一轮|下轮|下一次|还剩|还有几天|怎么办|该做什么|要做什么|做什么"
                            r"|下一步|补救|补办"),
     re.compile(r"\b(when|deadlines?|due|late|overdue|next round|next audit|extension|extend|postpone|what now"
                r"|what should we do|what do we do|what next|how long|in time)\b")),
)


_NEXT_ROUND = re.compile(r"下一轮|下轮|下一次审核|下次审核|再次审核|再审核|复审|next round|next audit|re-?audit")


def about_next_round(text: str) -> bool:
    return bool(_NEXT_ROUND.search(normalize(text).lower()))


def next_round_line(probe: Assessment, tr: Gettext, locale: str) -> str:
    """For "下一轮什么时候" before any round is completed: `probe` is the verdict with this round completed today;
    its five-year deadline (if any applies) says how the next round is counted."""
    hit = next((d for d in probe.deadlines if d.kind == "reaudit"), None)
    if hit is None:
        return tr(N_("No five-year interval between audits applies to your enterprise under the documents in force: "
                     "a next round is due if it is listed again."))
    citation = hit.citation if locale.startswith("zh") else original(hit.citation, tr)
    return tr(N_("The next round must be completed within five years of the day this round is completed (its report "
                 "submitted) ({citation}). Tell me that day once it is done (for example “审核已于2027-03-10完成”).")
              ).format(citation=citation)


def topic(text: str) -> str | None:
    """Which duty a question asks about: "env", "offices", "fields", "deadline"; None if it is not one."""
    if not text or not is_question(text):
        return None
    t = normalize(text)
    chinese = any("\u3400" <= ch <= "\u9fff" for ch in t)
    for name, zh, en in _TOPICS:
        if (zh if chinese else en).search(t if chinese else t.lower()):
            return name
    return None


def optional_answer(a: Assessment, listed: str | None, penalties: str | None, tr: Gettext, locale: str) -> str:
    """能不能不做 / "do we have to": what the verdict makes of it. A mandatory audit is a duty (the law's
    第二十七条, and what a missed step costs); on a published list whose answers give no ground, the list decides;
    a voluntary one is the enterprise's choice; an undetermined one depends on the answers still open."""
    if a.obligation == "mandatory":
        ground = a.grounds[0]
        source = f"{ground.pack.title}{ground.citation}"
        lines = [tr(N_("Your enterprise has to: by your verdict its audit is mandatory ({source}). That is a duty "
                       "under the law (《中华人民共和国清洁生产促进法》第二十七条), not a choice, and the steps have "
                       "to be done by their deadlines.")).format(source=source if locale.startswith("zh")
                                                                 else original(source, tr))]
        if penalties:
            lines.append(penalties)
        return "\n".join(lines)
    if listed:
        return tr(N_("The list decides: while the list published on {day} names your enterprise, the audit is a duty "
                     "and its deadlines apply, whatever your answers give (see the verdict). If you think the list is "
                     "wrong, ask the department that sent the notice.")).format(day=listed)
    if a.obligation == "voluntary":
        return tr(N_("Your enterprise does not have to: by your answers no mandatory ground applies, so an audit is "
                     "its own choice (a voluntary audit, which the state encourages). That changes if it is put on a "
                     "mandatory-audit list: tell me when it is."))
    return tr(N_("That depends on the answers still open: once they are given, the verdict says whether the audit "
                 "is a duty for your enterprise."))


def answer(name: str, a: Assessment, tr: Gettext, locale: str) -> str | None:
    """The part of the verdict that answers an "env", "offices" or "fields" question; None when the verdict has
    nothing to say on it (no mandatory ground yet)."""
    if name == "offices" and a.report_to:
        province = next((d.pack.jurisdiction for d in a.documents if d.applied and not d.pack.national), None)
        return render_offices(list(a.report_to), tr, province=province)
    if name == "fields" and a.disclosure_fields:
        fields = tr(N_(", ")).join(a.disclosure_fields)
        chinese = locale.startswith("zh")
        return tr(N_("What to publish: {fields}")).format(fields=fields if chinese else original(fields, tr)) + \
            "\n" + tr(N_("Publish it in local media, on the enterprise's website or in another way the public can "
                         "see, within a month of the list's publication."))
    if name == "env":
        yearly = [d for d in a.duties if d.due is not None]
        if yearly:
            return render_duties(_only(a, yearly), tr, locale)
    if name in ("offices", "fields", "env"):
        return tr(N_("That follows from a mandatory verdict, and yours has no mandatory ground: nothing to report or "
                     "publish for a list."))
    return None


def _only(a: Assessment, duties: list[DutyHit]) -> Assessment:
    """The assessment with only the given duties (render_duties renders an assessment's)."""
    from dataclasses import replace
    return replace(a, duties=tuple(duties))
