"""A document that supersedes another from a date, with an article mapping (issue 12 item 8: ready for the
生态环境法典). The fixture packs in tests/rules/fixtures are fictional and not shipped."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rules import default_packs
from rules.engine import Engine
from rules.errors import RulePackError
from rules.facts import derive, parse_facts
from rules.packs import PACK_DIR, load_pack, load_packs

FIXTURES = Path(__file__).parent / "fixtures"
CODE = "ecology_code_fixture"


@pytest.fixture(scope="module")
def engine() -> Engine:
    extra = [load_pack(FIXTURES / f"{CODE}.yaml"), load_pack(FIXTURES / "xinjiang_measures_fixture.yaml")]
    return Engine((*default_packs(), *extra))


def run(engine: Engine, facts: dict[str, Any], as_of: date) -> dict[str, Any]:
    return engine.assess(derive(parse_facts(facts)), as_of).to_dict()


def law_grounds(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for g in result["grounds"] if g["id"].startswith("national_law_2012.")]


def test_the_fixture_is_not_shipped() -> None:
    assert CODE not in {p.id for p in default_packs()}
    assert not (PACK_DIR / f"{CODE}.yaml").exists()


def test_before_the_date_the_old_law_is_cited(engine: Engine) -> None:
    result = run(engine, {"province": "hebei", "exceeds_emission_standard": True}, date(2026, 12, 31))
    (g,) = law_grounds(result)
    assert (g["document_id"], g["document"]) == ("national_law_2012", "《中华人民共和国清洁生产促进法》")
    assert g["citation"] == "第二十七条第二款第（一）项"
    docs = {d["id"]: d for d in result["documents"]}
    assert docs[CODE]["applied"] is False and "2027-01-01" in docs[CODE]["why"]
    assert docs["national_law_2012"]["applied"] is True


def test_from_the_date_the_new_documents_article_is_cited(engine: Engine) -> None:
    result = run(engine, {"province": "hebei", "exceeds_emission_standard": True}, date(2027, 1, 1))
    assert result["obligation"] == "mandatory"
    (g,) = law_grounds(result)
    assert g["document_id"] == CODE
    assert g["document"] == "《生态环境法典》（测试用虚构文本）"
    assert g["citation"] == "第九百零一条第一款第（一）项"      # 第二十七条第二款 -> 第九百零一条第一款, longest prefix
    assert g["quote"]                                          # no new wording known: the old quote stays
    docs = {d["id"]: d for d in result["documents"]}
    assert docs[CODE]["applied"] is True
    old = docs["national_law_2012"]
    assert old["applied"] is True and "2027-01-01" in old["why"] and "生态环境法典" in old["why"]


def test_other_documents_are_cited_as_before(engine: Engine) -> None:
    result = run(engine, {"province": "hebei", "exceeds_emission_standard": True}, date(2027, 6, 1))
    measures = [g for g in result["grounds"] if g["document_id"] == "national_measures_2016"]
    assert measures and measures[0]["citation"].startswith("第八条")


def test_a_deadline_counted_from_the_date_cites_the_new_article(engine: Engine) -> None:
    facts = {"province": "xinjiang", "exceeds_emission_standard": True}
    before = run(engine, {**facts, "list_published_on": "2026-12-31"}, date(2027, 2, 1))
    after = run(engine, {**facts, "list_published_on": "2027-01-01"}, date(2027, 2, 1))
    cite = {d["kind"]: d["citation"] for d in before["deadlines"]}
    assert "《新疆维吾尔自治区清洁生产审核暂行办法》第十条" in cite["disclosure"]
    cite = {d["kind"]: d["citation"] for d in after["deadlines"]}
    assert "《新疆维吾尔自治区清洁生产审核办法》（测试用虚构文本）第八条" in cite["disclosure"]
    assert "第九条第一款" in cite["start"]
    assert "暂行办法》第十六条" in cite["report"]                 # not mapped: still cited as the old text


def test_the_new_wording_replaces_the_quote_where_given(engine: Engine) -> None:
    facts = {"province": "hebei", "exceeds_emission_standard": True}
    mapped = engine.packs[-2].supersedes[0].recite("第二十七条第四款")
    assert mapped is not None and mapped.new == "第九百零一条第三款" and mapped.quote
    assert run(engine, facts, date(2027, 1, 2))["obligation"] == "mandatory"


def _copy_with(tmp_path: Path, text: str) -> Path:
    for p in PACK_DIR.glob("*.yaml"):
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "zz_fixture.yaml").write_text(text, encoding="utf-8")
    return tmp_path


HEAD = ("id: zz\ntitle: 《测试》\nissuer: 测试\nnumber: ''\njurisdiction: national\n"
        "effective_from: 2027-01-01\neffective_until: null\n")


@pytest.mark.parametrize(("body", "message"), [
    ("supersedes:\n  - {document: no_such_pack, from: 2027-01-01, citation: 第一条, quote: q, "
     "articles: [{old: 第一条, new: 第二条}]}\n", "supersedes[0].document: no loaded pack 'no_such_pack'"),
    ("supersedes:\n  - {document: national_law_2012, from: 2026-12-31, citation: 第一条, quote: q, "
     "articles: [{old: 第一条, new: 第二条}]}\n", "before this document's effective_from"),
    ("supersedes:\n  - {document: national_law_2012, from: 2027-01-01, citation: 第一条, quote: q, "
     "articles: []}\n", "supersedes[0].articles"),
    ("supersedes:\n  - {document: national_law_2012, from: 2027-13-01, citation: 第一条, quote: q, "
     "articles: [{old: 第一条, new: 第二条}]}\n", "supersedes[0].from"),
    ("supersedes:\n  - {document: national_law_2012, from: 2027-01-01, citation: 第一条, quote: q, "
     "articles: [{old: 第一条, new: 第二条}, {old: 第一条, new: 第三条}]}\n", "mapped twice"),
])
def test_a_bad_supersedes_names_the_key(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(RulePackError) as info:
        load_packs(_copy_with(tmp_path, HEAD + body))
    assert "zz_fixture.yaml: " in str(info.value)
    assert message in str(info.value)
