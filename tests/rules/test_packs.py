"""A malformed pack fails loading with an error naming the file and the key (STYLE.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.errors import RulePackError
from rules.packs import PACK_DIR, load_pack, load_packs

EMISSION = "{fact: exceeds_emission_standard, is: true}"
GOOD = (PACK_DIR / "shandong_rules_2017.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("effective_from: 2017-05-20", "effective_from: 2017-13-01", "effective_from"),
        ("effective_until: 2022-05-19", "effective_until: 2016-01-01", "effective_until is before"),
        ("kind: pollution", "kind: noise", "grounds[0].kind"),
        (EMISSION, "{fact: exceeds_noise, is: true}", "unknown fact 'exceeds_noise'"),
        (EMISSION, "{fact: exceeds_emission_standard, maybe: true}", "unknown test"),
        ("citation: 第八条第一款第（一）项", "citation: ''", "grounds[0].citation"),
        ("period: {months: 1}", "period: {months: 0}", "deadlines[0].period"),
        ("from: list_published_on", "from: some_day", "deadlines[0].from"),
        ("jurisdiction: shandong", "jurisdiction: shandong\nsurprise: 1", "surprise"),
    ],
)
def test_a_broken_pack_names_its_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in GOOD, old
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(RulePackError) as info:
        load_pack(path)
    message = str(info.value)
    assert message.startswith("broken.yaml: "), message
    assert key in message, message


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match=r"^a\.yaml: not valid YAML"):
        load_pack(_write(tmp_path, "id: [unclosed", "a.yaml"))
    with pytest.raises(RulePackError, match=r"^b\.yaml: \(top\)"):
        load_pack(_write(tmp_path, "- a list", "b.yaml"))


def test_duplicate_ids_and_unknown_jurisdictions_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "one.yaml")
    _write(tmp_path, GOOD, "two.yaml")
    with pytest.raises(RulePackError, match="duplicate pack id"):
        load_packs(tmp_path)
    (tmp_path / "two.yaml").unlink()
    _write(tmp_path, GOOD.replace("id: shandong_rules_2017", "id: other").replace(
        "jurisdiction: shandong", "jurisdiction: atlantis"), "two.yaml")
    with pytest.raises(RulePackError, match=r"two\.yaml: jurisdiction: unknown province 'atlantis'"):
        load_packs(tmp_path)


def test_the_shipped_packs_load_with_a_version_each() -> None:
    packs = load_packs()
    assert len(packs) == 10
    assert all(len(p.version) == 12 for p in packs)
    assert [p.national for p in packs] == sorted((p.national for p in packs), reverse=True)
