"""Property: for a random true profile, answered in random natural phrasings (and sometimes described in
one sentence first), the chat's verdict equals `qingshen assess` on the true facts, or the chat is still
asking (or says it cannot decide). Never a different verdict."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from rules import assess
from storage import Repositories
from tests.handlers.chatkit import ChatBot

TODAY = date(2026, 12, 1)
PROVINCES = {"shanxi": ("山西", "晋", "太原", "山西省"), "shandong": ("山东", "鲁", "淄博", "山东省"),
             "xinjiang": ("新疆", "乌鲁木齐", "新疆维吾尔自治区"), "henan": ("河南", "郑州", "河南省"),
             "hebei": ("河北", "石家庄", "河北省")}
INDUSTRIES = {"3011": ("水泥", "水泥厂", "我们做水泥的"), "2521": ("焦化", "焦化厂"), "3360": ("电镀", "电镀厂"),
              "4411": ("火电厂", "火力发电"), "1713": ("印染", "印染厂"), "5211": ("百货商店",),
              "2614": ("有机化学原料制造",), "3130": ("钢压延加工",)}
YES = ("是", "是的", "有", "对", "嗯，是的", "超了", "yes")
NO = ("否", "不是", "没有", "没", "应该没有", "没超", "no", "不超")
BOOLS = ("exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit", "on_master_list",
         "central_enterprise", "has_industrial_coating", "has_extraction", "missed_energy_target")
UNSURE = ("不知道", "不清楚", "说不准")

profiles = st.fixed_dictionaries(
    {"province": st.sampled_from(sorted(PROVINCES)), "industry_code": st.sampled_from(sorted(INDUSTRIES)),
     "employees": st.sampled_from([15, 120, 350, 800, 2500]),
     "revenue_10k_yuan": st.sampled_from([200, 1500, 8000, 20000, 60000])},
    optional={**{b: st.booleans() for b in BOOLS},
              "toxic_classes": st.sampled_from([[], ["heavy_metal"], ["hazardous_waste"]])},
)


def _money(v: int) -> str:
    return f"{v / 10000:g}亿" if v >= 10000 else f"{v}万"


def _answer(fact: str | None, truth: dict[str, Any], ids: list[str], draw: Any) -> tuple[str, bool]:
    """(message, is_choice) a contact who knows `truth` sends to the open question."""
    if fact is None:
        return "我的期限", False
    if fact == "province":
        return draw(st.sampled_from(PROVINCES[truth["province"]])), False
    if fact == "industry_code":
        if any(i.startswith("ind:") for i in ids):
            want = f"ind:{truth['industry_code']}"
            return (want if want in ids else "ind:none"), True
        return draw(st.sampled_from(INDUSTRIES[truth["industry_code"]])), False
    if fact == "scale":
        return f"{truth['employees']}人，营收{_money(truth['revenue_10k_yuan'])}", False
    if fact == "above_designated_size":
        return f"年营业额{_money(truth['revenue_10k_yuan'])}", False
    if fact == "toxic_classes" and fact in truth:
        if any(i.startswith("tox:") for i in ids):
            cls = truth[fact]
            return (f"tox:{cls[0]}" if cls else "tox:none"), True
        return (draw(st.sampled_from(NO)) if not truth[fact] else "有，用到铬"), False
    if fact in truth:
        return draw(st.sampled_from(YES if truth[fact] else NO)), False
    if "none" in ids:
        return "none", True
    return draw(st.sampled_from(UNSURE)), False


def _state(sessions: sessionmaker[Session], user: str) -> dict[str, Any]:
    with sessions() as s:
        repos = Repositories(s)
        contact = repos.contacts.get_by_address("test", user)
        assert contact is not None
        row = repos.conversations.get_by_contact_id(contact.id)
        return dict(row.state) if row is not None else {}


_users = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(truth=profiles, describe=st.booleans(), data=st.data())
def test_the_chat_never_gives_a_verdict_other_than_assess(
    sessions: sessionmaker[Session], truth: dict[str, Any], describe: bool, data: st.DataObject
) -> None:
    bot = ChatBot(sessions, TODAY)
    user = f"p{next(_users)}"
    expected = assess(truth, TODAY).obligation
    bot.start(user=user)
    if describe:
        name = data.draw(st.sampled_from(PROVINCES[truth["province"]]))
        trade = data.draw(st.sampled_from(INDUSTRIES[truth["industry_code"]]))
        bot.push(f"我们是{name}的{trade}，大概{truth['employees']}人", user=user)
    for _ in range(25):
        text = bot.text
        if "判定结果" in text:
            break
        state = _state(sessions, user)
        fact = (state.get("interview") or {}).get("asking")
        message, choice = _answer(fact, truth, bot.choice_ids(), data.draw)
        bot.pick(message, user=user) if choice else bot.push(message, user=user)
    headline = next((line for line in bot.text.splitlines() if line.startswith("判定结果")), "")
    if "应当实施强制性" in headline:
        assert expected == "mandatory", (truth, bot.text)
    elif "可自愿开展" in headline:
        assert expected == "voluntary", (truth, bot.text)
    else:
        assert "判定结果" not in bot.text or "尚不能确定" in headline, headline
