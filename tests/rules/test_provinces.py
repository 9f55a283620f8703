"""Provinces: strict ids for the API, lenient matching for chat (rules/provinces.py)."""

from __future__ import annotations

import pytest

from rules.errors import FactError
from rules.provinces import Province, all_provinces, find_province, get_province, normalize_province

IDS = [
    "beijing",
    "tianjin",
    "hebei",
    "shanxi",
    "neimenggu",
    "liaoning",
    "jilin",
    "heilongjiang",
    "shanghai",
    "jiangsu",
    "zhejiang",
    "anhui",
    "fujian",
    "jiangxi",
    "shandong",
    "henan",
    "hubei",
    "hunan",
    "guangdong",
    "guangxi",
    "hainan",
    "chongqing",
    "sichuan",
    "guizhou",
    "yunnan",
    "xizang",
    "shaanxi",
    "gansu",
    "qinghai",
    "ningxia",
    "xinjiang",
]


def found(text: str) -> str | None:
    p = find_province(text)
    return None if p is None else p.id


def test_all_31() -> None:
    provinces = all_provinces()
    assert [p.id for p in provinces] == IDS
    assert len({p.code for p in provinces}) == 31
    assert [p.code for p in provinces] == sorted(p.code for p in provinces)
    for p in provinces:
        assert p.name.startswith(p.short)
        assert p.abbr and all(len(a) == 1 for a in p.abbr)


def test_shanxi_and_shaanxi() -> None:
    shanxi, shaanxi = get_province("shanxi"), get_province("shaanxi")
    assert (shanxi.code, shanxi.name, shanxi.short, shanxi.abbr) == ("14", "山西省", "山西", ("晋",))
    assert (shaanxi.code, shaanxi.name, shaanxi.short) == ("61", "陕西省", "陕西")
    assert set(shaanxi.abbr) == {"陕", "秦"}


@pytest.mark.parametrize(
    ("code", "pid", "name"),
    [
        ("14", "shanxi", "山西省"),
        ("37", "shandong", "山东省"),
        ("65", "xinjiang", "新疆维吾尔自治区"),
        ("41", "henan", "河南省"),
        ("61", "shaanxi", "陕西省"),
        ("15", "neimenggu", "内蒙古自治区"),
        ("54", "xizang", "西藏自治区"),
        ("50", "chongqing", "重庆市"),
    ],
)
def test_codes(code: str, pid: str, name: str) -> None:
    assert normalize_province(code) == pid
    assert get_province(pid).name == name
    assert found(code) == pid


@pytest.mark.parametrize(
    ("value", "pid"),
    [
        ("shanxi", "shanxi"),
        ("Shanxi", "shanxi"),
        ("SHAANXI", "shaanxi"),
        (" shandong ", "shandong"),
        ("山西", "shanxi"),
        ("山西省", "shanxi"),
        ("陕西省", "shaanxi"),
        ("新疆", "xinjiang"),
        ("新疆维吾尔自治区", "xinjiang"),
        ("neimenggu", "neimenggu"),
        ("14 ", "shanxi"),
    ],
)
def test_normalize_province(value: str, pid: str) -> None:
    assert normalize_province(value) == pid


@pytest.mark.parametrize("bad", ["shan xi", "晋", "Inner Mongolia", "taiwan", "71", "", "1", 14, None, True])
def test_normalize_province_refuses(bad: object) -> None:
    with pytest.raises(FactError) as e:
        normalize_province(bad)
    assert e.value.field == "province"


@pytest.mark.parametrize(
    ("text", "pid"),
    [
        ("晋", "shanxi"),
        ("鲁", "shandong"),
        ("新", "xinjiang"),
        ("豫", "henan"),
        ("陕", "shaanxi"),
        ("秦", "shaanxi"),
        ("蒙", "neimenggu"),
        ("沪", "shanghai"),
        ("粤", "guangdong"),
        ("晋。", "shanxi"),
        ("滇", "yunnan"),
        ("云", "yunnan"),
        ("黔", "guizhou"),
        ("蜀", "sichuan"),
    ],
)
def test_abbreviations_as_whole_answers(text: str, pid: str) -> None:
    assert found(text) == pid


@pytest.mark.parametrize(
    ("text", "pid"),
    [
        ("我们在山西太原", "shanxi"),
        ("山西省", "shanxi"),
        ("陕西西安", "shaanxi"),
        ("公司位于陕西省榆林市", "shaanxi"),
        ("Shanxi", "shanxi"),
        ("shanxi", "shanxi"),
        ("Shaanxi", "shaanxi"),
        ("we are in Shanxi province", "shanxi"),
        ("Inner Mongolia", "neimenggu"),
        ("inner   mongolia", "neimenggu"),
        ("Tibet", "xizang"),
        ("新疆乌鲁木齐", "xinjiang"),
        ("内蒙古鄂尔多斯", "neimenggu"),
        ("上海南京路", "shanghai"),  # not 海南
        ("浙江西湖边", "zhejiang"),  # not 江西
        ("广西壮族自治区南宁市", "guangxi"),
        ("工厂在shandong", "shandong"),
    ],
)
def test_find_in_sentences(text: str, pid: str) -> None:
    assert found(text) == pid


@pytest.mark.parametrize(
    "text", ["新的一年", "我们有14个车间", "", "不知道", "zhunan", "shanxia", "晋江市某厂"]
)
def test_find_nothing(text: str) -> None:
    assert found(text) is None


def test_get_province_unknown() -> None:
    with pytest.raises(FactError):
        get_province("taiwan")
    assert isinstance(get_province("beijing"), Province)
