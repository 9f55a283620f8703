"""A correction after the verdict is said back, and the verdict is given again with the corrected facts."""

from __future__ import annotations

from pathlib import Path

from tests.handlers.chatkit import ChatBot, sqlite_bot


def _bot(tmp_path: Path) -> ChatBot:
    return sqlite_bot(tmp_path, start=False)


def test_a_corrected_substance_class_replaces_the_old_one_in_the_verdict(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    bot.start()
    bot.push("山东")
    bot.push("4")                       # the checklist: toxic substances only
    bot.push("重金属")
    assert "判定结果" in bot.text and "含铅、汞、镉、铬、砷" in bot.text
    bot.push("不是重金属，是危废")
    assert "危险废物" in bot.text and bot.choice_ids()[:2] == ["ok:yes", "ok:no"]
    bot.pick("ok:yes")
    assert "我理解的是：有毒有害物质：危险废物" in bot.text
    assert "按更正后的回答" in bot.text and bot.text.count("判定结果") == 1
    basis = next(line for line in bot.text.splitlines() if line.startswith("判定依据的情况"))
    assert "危险废物" in basis and "铅" not in basis


def test_a_correction_that_is_refused_changes_nothing(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    bot.start()
    bot.push("山东")
    bot.push("4")
    bot.push("重金属")
    bot.push("不是重金属，是危废")
    bot.pick("ok:no")
    assert "按更正后的回答" not in bot.text and "判定结果" not in bot.text


def test_a_round_completed_after_the_list_is_not_called_overdue(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    bot.start()
    bot.push("山东")
    bot.push("4")
    bot.push("重金属")
    bot.push("2026-03-31")                 # the list
    bot.push("2026-09-01")                 # the last round: this list's round
    start = next(line for line in bot.text.splitlines() if "开展清洁生产审核：" in line)
    assert "已于2026-09-01完成" in start and "逾期" not in start
    assert "随本轮审核完成：您的回答是本轮审核已于2026-09-01完成" in bot.text
    assert "第三十九条" not in bot.text     # no fine for an audit that was done
    bot.push("我的期限")
    assert "开展清洁生产审核：已于2026-09-01完成" in bot.text and "公布企业相关信息：已逾期" in bot.text
