"""XML callbacks declaring entities are refused before anything is read from them.

wechatpy parses with xmltodict, whose `disable_entities` (on by default) raises on any entity declaration:
a billion-laughs bomb or an external entity naming a local file, in the signed envelope or inside the
correctly encrypted and signed message, is never expanded, never dispatched, and never a 500."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import xmltodict
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.registry import RawRequest
from bot.channels.wechat import WeChatChannel
from bot.channels.wecom import WeComChannel, xml_fields
from handlers.dispatcher import Dispatcher
from handlers.messages import Inbound, Outbound
from tests.channels.channelkit import (
    AES_KEY,
    Fake,
    post_raw,
    running,
    wechat_config,
    wechat_raw,
    wechat_text_xml,
    wecom_raw,
    wecom_text_xml,
)
from tests.channels.fakes.tencent_api import FakeMp

SECRET = "TOP-SECRET-c41d"
LAUGHS = ('<!DOCTYPE xml [<!ENTITY a "lollollollollollollollollollol">'
          + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi", strict=True))
          + "]>")


class Recording:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher, self.calls, self.lock = dispatcher, list[Inbound](), threading.Lock()

    def dispatch(self, inbound: Inbound) -> list[Outbound]:
        with self.lock:
            self.calls.append(inbound)
        return self.dispatcher.dispatch(inbound)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def hostile(xml: str, attack: str, secret_file: Path) -> str:
    """The message with a DOCTYPE declaring entities, and a reference to them in its text."""
    if attack == "bomb":
        doctype, reference = LAUGHS, "&i;"
    else:
        doctype, reference = f'<!DOCTYPE xml [<!ENTITY s SYSTEM "{secret_file.as_uri()}">]>', "&s;"
    content = "<Content><![CDATA[你好]]></Content>"
    assert content in xml
    return doctype + xml.replace(content, f"<Content>{reference}</Content>")


@pytest.mark.parametrize("attack", ["bomb", "external"])
def test_xmltodict_refuses_entity_declarations(attack: str, secret_file: Path) -> None:
    xml = hostile(wecom_text_xml("zhangsan", "你好", 1), attack, secret_file)
    with pytest.raises(ValueError, match="entities are disabled"):
        xmltodict.parse(xml)
    with pytest.raises(ValueError, match="entities are disabled"):
        xml_fields(xml)


@pytest.mark.parametrize("attack", ["bomb", "external"])
def test_a_wecom_callback_with_entities_is_not_read(
    attack: str, secret_file: Path, wecom: WeComChannel, dispatcher: Dispatcher
) -> None:
    recording = Recording(dispatcher)
    with running(wecom.routes(recording.dispatch), recording) as url:
        inner = post_raw(url, "/webhooks/wecom", wecom_raw(hostile(wecom_text_xml("zhangsan", "你好", 71), attack,
                                                                           secret_file)))
        raw = wecom_raw(wecom_text_xml("lisi", "你好", 72))
        envelope = hostile(raw.body.decode().replace("<Encrypt>", "<Content><![CDATA[你好]]></Content><Encrypt>"),
                           attack, secret_file)
        outer = post_raw(url, "/webhooks/wecom", RawRequest(raw.method, raw.query, raw.headers, envelope.encode()))
        fine = post_raw(url, "/webhooks/wecom", wecom_raw(wecom_text_xml("wangwu", "你好", 73)))
    for r in (inner, outer):
        assert r.status_code < 500, r.text
        assert SECRET not in r.text and "lollol" not in r.text
    assert fine.status_code == 200
    assert [c.user_id for c in recording.calls] == ["wangwu"]  # the control message only


@pytest.mark.parametrize("attack", ["bomb", "external"])
@pytest.mark.parametrize("aes", [False, True])
def test_a_wechat_callback_with_entities_is_not_read(
    attack: str, aes: bool, secret_file: Path, fake_mp: Fake[FakeMp], sessions: sessionmaker[Session],
    dispatcher: Dispatcher,
) -> None:
    key = AES_KEY if aes else None
    channel = WeChatChannel(wechat_config(fake_mp.url, aes_key=key), sessions)
    recording = Recording(dispatcher)
    try:
        with running(channel.routes(recording.dispatch), recording) as url:
            bad = post_raw(url, "/webhooks/wechat", wechat_raw(hostile(wechat_text_xml("o-zhang", "你好", 81), attack,
                                                                           secret_file), aes_key=key))
            fine = post_raw(url, "/webhooks/wechat", wechat_raw(wechat_text_xml("o-wang", "你好", 82), aes_key=key))
    finally:
        channel.close()
    assert bad.status_code < 500, bad.text
    assert SECRET not in bad.text and "lollol" not in bad.text
    assert fine.status_code == 200
    assert [c.user_id for c in recording.calls] == ["o-wang"]
