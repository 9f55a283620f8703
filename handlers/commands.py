"""The commands a contact can type anywhere, in Chinese and English: one table, read once per message."""

from __future__ import annotations

import re

from handlers.parse import normalize

COMMANDS: dict[str, tuple[str, ...]] = {
    "help": ("帮助", "help", "/help", "菜单", "menu", "帮忙", "怎么用"),
    "restart": ("重新开始", "重来", "restart", "/restart", "/start", "开始", "start", "start over", "重新来"),
    "back": ("返回", "上一步", "后退", "back", "/back", "undo", "撤销", "fanhui", "返回上一步", "go back"),
    "status": ("我的期限", "期限", "状态", "status", "/status", "deadlines", "my deadlines", "查看期限",
               "我的截止日期", "截止日期"),
    "language": ("语言", "language", "/language", "english", "中文", "切换语言", "switch language"),
    "forget": ("删除我的数据", "忘记我", "forget", "/forget", "删除数据", "forget me", "delete my data"),
}
_TRAILING = re.compile(r"[\s。.!！?？~～]+$")
_BY_WORD = {w: name for name, words in COMMANDS.items() for w in words}


def read_command(text: str) -> str | None:
    """The command a whole message is, or None ("返回。", "Help!" and "my deadlines" are commands;
    "返回上一个问题的意思是" is not)."""
    t = _TRAILING.sub("", normalize(text))
    return _BY_WORD.get(t)
