"""Contacts after the verdict (tests/handlers/chatkit.ChatBot on real SQLite): the stored milestones follow what
the verdict says, steps said done in the contact's words, the day they were done, and questions about deadlines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code, milestones, sqlite_bot

SHANDONG = credit_code("91370300MA3C12345")
SHANXI = credit_code("91140100MA3C12345")


@pytest.fixture
def bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path, start=False)


def _pending(bot: ChatBot, milestone_id: int) -> list[str]:
    with bot.dispatcher.sessions() as s:
        return [r.kind for r in Repositories(s).reminders.list_by_milestone(milestone_id) if r.status == "pending"]


def _shandong_2023(bot: ChatBot) -> None:
    bot.start(code=SHANDONG)
    bot.push("化工厂，有危废，2023年3月15日上的名单")
    assert "判定结果：贵企业应当实施强制性清洁生产审核" in bot.text
    assert "上一轮清洁生产审核" in bot.text


def test_the_last_audit_given_after_the_verdict_marks_the_stored_steps_done(bot: ChatBot) -> None:
    """The first verdict stored start and report open (overdue since 2023); the last audit given next completes
    them: 我的期限 said them overdue by 1296 / 991 days and "请立即办理" while the verdict said them done."""
    _shandong_2023(bot)
    bot.push("2026年3月16日")
    assert "已于2026-03-16完成" in bot.text
    ms = milestones(bot.dispatcher.sessions)
    for kind in ("start", "report"):
        assert ms[kind].done_at is not None, kind
        assert _pending(bot, ms[kind].id) == []
    assert ms["disclosure"].done_at is None                 # not shown done by any fact
    assert ms["reaudit"].nominal == date(2031, 3, 16)
    bot.push("我的期限")
    assert "开展清洁生产审核：已于2026-03-16完成" in bot.text
    assert "完成审核并报送审核报告：已于2026-03-16完成" in bot.text
    assert "已逾期1296天" not in bot.text and "已逾期991天" not in bot.text
    assert "公布企业相关信息：已逾期1324天" in bot.text


def test_a_corrected_last_audit_moves_the_stored_next_round(bot: ChatBot) -> None:
    _shandong_2023(bot)
    bot.push("2026年3月16日")
    bot.push("不对，审核是2026年4月20日完成的")
    bot.confirm()
    ms = milestones(bot.dispatcher.sessions)
    assert ms["reaudit"].nominal == date(2031, 4, 20), bot.text
    bot.push("我的期限")
    assert "2031-04-20" in bot.text and "2031-03-16" not in bot.text


def test_the_evaluation_given_after_the_verdict_in_shanxi(bot: ChatBot) -> None:
    bot.start(code=SHANXI)
    bot.push("水泥厂，三百人，营收五千万，2023年4月10日上的名单")
    bot.push("2024年3月20日")
    bot.push("2025年8月20日")
    bot.push("我的期限")
    assert "开展清洁生产审核：已于2024-03-20完成" in bot.text
    assert "通过清洁生产审核验收：已逾期103天" in bot.text
    assert "已逾期965天" not in bot.text
