"""GB/T 4754-2017 lookup, validation and search (rules/industries.py)."""

from __future__ import annotations

import pytest

from rules import industries
from rules.errors import FactError
from rules.industries import (
    Industry,
    all_classes,
    division_of,
    divisions,
    get_class,
    is_industrial,
    search,
    section_of,
    sections,
    validate_code,
)


def codes(text: str, limit: int = 8) -> list[str]:
    return [c.code for c in search(text, limit)]


def test_counts() -> None:
    assert len(sections()) == 20
    assert len(divisions()) == 97
    assert len(all_classes()) == 1380
    assert list(sections()) == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert list(divisions()) == [f"{n:02d}" for n in range(1, 98)]


def test_classes_are_consistent() -> None:
    for c in all_classes():
        assert len(c.code) == 4 and c.code.isdigit()
        assert c.code.startswith(c.group) and c.group.startswith(c.division)
        assert section_of(c.code) == c.section
        assert c.name == c.name.strip() and c.note == c.note.strip()


def test_get_class() -> None:
    cement = get_class("3011")
    assert isinstance(cement, Industry)
    assert (cement.code, cement.name, cement.group, cement.division, cement.section) == (
        "3011",
        "水泥制造",
        "301",
        "30",
        "C",
    )
    coal = get_class("0610")
    assert coal is not None and coal.name == "烟煤和无烟煤开采洗选" and coal.note.startswith("指对地下或露天")
    assert get_class("30") is None  # a division is not a class
    assert get_class("301") is None
    assert get_class("9999") is None


def test_trailing_spaces_in_source_are_stripped() -> None:
    assert divisions()["22"] == "造纸和纸制品业"
    gloves = get_class("1923")
    assert gloves is not None and gloves.name == "皮手套及皮装饰制品制造"


def test_validate_code_ok() -> None:
    assert validate_code("3011") == "3011"
    assert validate_code("0610") == "0610"


@pytest.mark.parametrize("bad", ["30A1", "301", "30111", "", " 3011", "３０１１", 3011, None, 3011.0])
def test_validate_code_malformed(bad: object) -> None:
    with pytest.raises(FactError) as e:
        validate_code(bad)
    assert e.value.field == "industry_code"
    assert "malformed" in e.value.message
    assert "行业代码" in e.value.message


@pytest.mark.parametrize("bad", ["9999", "0000", "3010", "3019"])
def test_validate_code_unknown(bad: str) -> None:
    with pytest.raises(FactError) as e:
        validate_code(bad)
    assert e.value.field == "industry_code"
    assert "unknown class" in e.value.message
    assert str(e.value).startswith("industry_code: ")


def test_section_and_division() -> None:
    assert section_of("3011") == "C"
    assert division_of("3011") == 30
    assert division_of("0610") == 6
    assert section_of("0610") == "B"
    assert section_of("4411") == "D"
    assert section_of("30") == "C"  # a division code works too
    with pytest.raises(FactError):
        section_of("98")
    with pytest.raises(FactError):
        division_of("x")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0610", True),
        ("3011", True),
        ("4411", True),
        ("4620", True),
        ("0111", False),
        ("4891", False),
        ("7724", False),
    ],
)
def test_is_industrial(code: str, expected: bool) -> None:
    assert is_industrial(code) is expected


def test_industrial_sections_are_b_c_d() -> None:
    found = {c.section for c in all_classes() if is_industrial(c.code)}
    assert found == {"B", "C", "D"}


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("水泥", "3011"),
        ("电镀", "3360"),  # only in the note of 3360 (and later in a long note of 2432)
        ("炼焦", "2521"),
        ("焦化", "2521"),
        ("焦化厂", "2521"),
        ("火电", "4411"),
        ("火电厂", "4411"),
        ("发电厂", "4411"),
        ("钢厂", "3120"),
        ("药厂", "2710"),
        ("造纸厂", "2221"),
        ("煤矿", "0610"),
        ("水泥厂", "3011"),
        ("炼钢厂", "3120"),
        ("热电厂", "4412"),
        ("平板玻璃", "3041"),
        ("我们厂主要生产平板玻璃", "3041"),
        ("我们是做水泥的", "3011"),
        ("PCB", "3982"),
        ("炼油", "2511"),
        ("3011", "3011"),
    ],
)
def test_search_first(text: str, first: str) -> None:
    assert codes(text)[0] == first


def test_search_electroplating_prefers_the_class_it_defines() -> None:
    assert codes("电镀")[:2] == ["3360", "2432"]


def test_search_power_plant_ranks_thermal_high() -> None:
    assert "4411" in codes("发电厂", 3)
    assert codes("火电")[:2] == ["4411", "4412"]


def test_search_printing_and_dyeing() -> None:
    assert codes("印染")[:3] == ["1713", "1743", "1762"]
    assert set(codes("印染厂")[:3]) == {"1713", "1743", "1762"}


def test_search_coal_mines() -> None:
    assert codes("煤矿") == ["0610", "0620", "0690"]


def test_search_by_code_prefix() -> None:
    assert codes("30", 100) == [c.code for c in all_classes() if c.division == "30"]
    assert codes("301") == ["3011", "3012"]
    assert codes("441", 20) == ["4411", "4412", "4413", "4414", "4415", "4416", "4417", "4419"]
    assert codes("9999") == []
    assert codes("3") == []
    assert codes(" 3011 ") == ["3011"]
    assert codes("C3011") == ["3011"]
    assert codes("c30", 3) == ["3011", "3012", "3021"]
    assert codes("B3011") == []
    assert codes("30111") == []


def test_search_limit_and_empty() -> None:
    assert len(search("制造", 5)) == 5
    assert search("制造", 0) == []
    assert search("") == []
    assert search("  ，。") == []
    assert search("不知道") == []


def test_search_is_deterministic() -> None:
    for text in ("水泥", "金属", "我们是化工企业", "电池"):
        assert codes(text, 30) == codes(text, 30)
        assert codes(text, 30)[:5] == codes(text, 5)


def test_synonyms_point_at_real_classes() -> None:
    synonyms = industries._index().synonyms
    assert synonyms
    for word, targets in synonyms.items():
        assert word == word.lower()
        assert all(get_class(t) is not None for t in targets), word
