"""The Henan form through the real dispatcher (tests/handlers/chatkit.py): a contact whose enterprise is eligible
for a voluntary audit fills the form, with 返回, a refused value and a correction."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from handlers import henan_form
from storage import Repositories
from tests.handlers.chatkit import ChatBot, credit_code
from tests.henan.henankit import FILL, NOW, TODAY


def test_an_eligible_henan_contact_fills_the_form_through_the_dispatcher(sessions: sessionmaker[Session]) -> None:
    """The enterprise, its eligible verdict and the finished interview are stored directly (the interview's
    own questions are tested in tests/handlers); everything after is the dispatcher's."""
    with sessions.begin() as session:
        repos = Repositories(session)
        enterprise = repos.enterprises.add(credit_code=credit_code("91410100MA4A8888L"), name=None, province="henan",
                                           industry_code="3011")
        repos.assessments.add(facts={"province": "henan", "industry_code": "3011"}, as_of=TODAY,
                              obligation="voluntary", result={"voluntary": {"eligible": True}}, pack_versions={},
                              enterprise_id=enterprise.id)
        contact = repos.contacts.add("test", "u1")
        repos.contacts.record_consent(contact, NOW)
        repos.contacts.bind_enterprise(contact, enterprise.id)
        repos.conversations.save(contact.id, {"stage": "done", "locale": "zh_CN", "facts": {}})
    bot = ChatBot(sessions, date(2026, 11, 22))
    bot.push("申请表")
    assert "取消" in bot.text
    assert "企业的注册全称是什么？" in bot.text  # no name is stored for the enterprise
    bot.push("13812345678")
    assert "“企业名称”应填写单位全称" in bot.text
    bot.push("河南纺织有限公司")
    assert "注册地址" in bot.text
    bot.push("王强")                          # a person's name is no address
    assert "“注册地址”应填写地址" in bot.text
    bot.push("河南省郑州市金水区经三路1号")
    assert "法定代表人是谁？" in bot.text
    bot.push("返回")                          # never stored as the legal representative
    assert "已撤销" in bot.text
    for _key, value in FILL:
        bot.push(value)
    assert "请核对申请表内容" in bot.text
    assert "1. 企业名称：河南纺织有限公司" in bot.text
    bot.push("3")                             # the legal representative
    bot.push("王刚")
    assert "法定代表人：王刚" in bot.text
    bot.push("确认")
    assert "申请表已生成" in bot.text
    with sessions() as session:
        repos = Repositories(session)
        contact = repos.contacts.get_by_address("test", "u1")
        assert contact is not None and contact.enterprise_id is not None
        stored = henan_form.load_application(repos, contact.enterprise_id)
    assert stored is not None
    answers = stored["answers"]
    assert answers["name"] == "河南纺织有限公司" and answers["legal_representative"] == "王刚"
    assert answers["address"] == "河南省郑州市金水区经三路1号"
    assert answers["industry_code"] == "3011" and answers["output_10k_yuan"] == 12000.0
    assert "返回" not in str(answers)
    bot.push("我的期限")                       # the interview answers again once the form is done
    assert "请核对" not in bot.text
