"""我的期限 for a contact who said the enterprise is on a published mandatory-audit list, whose answers give no
ground: the verdict says the two disagree and that the list's deadlines apply while it names the enterprise,
so 我的期限 does not then say that no deadline applies: it gives the list's deadlines as counted from its day,
with those already past, and keeps none until the answers agree with the list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.handlers.chatkit import ChatBot, sqlite_bot


def _listed_without_ground(tmp_path: Path, *, english: bool = False) -> ChatBot:
    bot = sqlite_bot(tmp_path, date(2026, 12, 1), start=False)
    bot.push("Hello" if english else "你好")
    bot.pick("consent:yes")
    bot.push("skip" if english else "跳过")
    bot.push("a chemical plant in Shandong, listed on 15 March 2026" if english
             else "山东的化工厂，2026年3月15日上的名单")
    bot.pick("ck:none")
    return bot


def test_my_deadlines_gives_the_lists_deadlines_not_none(tmp_path: Path) -> None:
    bot = _listed_without_ground(tmp_path)
    assert "您的回答与名单不一致" in bot.text
    bot.push("我的期限")
    assert "不适用于贵企业" not in bot.text and "暂无期限" not in bot.text, bot.text
    assert "尚未记下期限" in bot.text and "以名单通知为准" in bot.text
    assert "2026-04-15前公布规定的信息" in bot.text and "2026-04-15；因排放超标" in bot.text
    assert "2026-05-15前开展审核（法定最后一日2026-05-15）：已逾期200天" in bot.text
    assert "2027-03-15前完成审核并报送审核报告（法定最后一日2027-03-15）\n" in bot.text  # not yet due


def test_the_same_in_english(tmp_path: Path) -> None:
    bot = _listed_without_ground(tmp_path, english=True)
    bot.push("my deadlines")
    assert "No deadlines kept yet" in bot.text and "do not apply" not in bot.text, bot.text
    assert "start the audit by 2026-05-15 (legal last day 2026-05-15): overdue by 200 days" in bot.text
