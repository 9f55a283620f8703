"""The names a question or an ask-back gives a fact fit every province that asks it: `accepted_on` is the
acceptance (验收) of Henan's voluntary audit and of Shanxi's mandatory one (三、（一）), so it is not named
"the voluntary audit's" to a Shanxi enterprise under mandatory audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.handlers.chatkit import ChatBot, sqlite_bot


def test_an_acceptance_year_of_a_mandatory_shanxi_audit_is_asked_without_calling_it_voluntary(
    tmp_path: Path
) -> None:
    bot: ChatBot = sqlite_bot(tmp_path, date(2026, 12, 1))
    bot.start()
    bot.push("山西的水泥厂")
    if bot.choice_ids() and bot.choice_ids()[0] == "ok:yes":
        bot.pick("ok:yes")
    assert "强制性清洁生产审核" in bot.text
    bot.push("2024-03-01")
    bot.push("21年验收的")
    assert "2021年的几月几日" in bot.text and "审核通过验收的日期" in bot.text, bot.text
    assert "自愿" not in bot.text
