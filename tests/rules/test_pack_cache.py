"""The packs' cache file (rules.pack_cache): served only while nothing it was made from has changed, ignored
when it is corrupt, foreign or cannot be written, and what it serves assesses exactly as packs read from YAML.
Each test has its own cache directory under tmp (QINGSHEN_CACHE_DIR)."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections import OrderedDict
from datetime import date
from pathlib import Path

import pytest

from rules import pack_cache, pack_schema
from rules import packs as runtime
from rules.engine import Engine
from rules.facts import derive, parse_facts
from rules.packs import PACK_DIR, load_packs

ROOT = Path(__file__).resolve().parents[2]
PROFILES = [
    {"province": "shandong", "industry_code": "3011", "scale": "medium", "exceeds_energy_limit": True,
     "list_published_on": "2021-03-31"},
    {"province": "shanxi", "industry_code": "2614", "scale": "large"},
    {"province": "henan", "industry_code": "1311", "revenue_10k_yuan": 3000, "exceeds_emission_standard": False},
    {"province": "xinjiang", "toxic_classes": ["heavy_metal"], "central_enterprise": True,
     "list_published_on": "2026-12-01"},
    {},
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv(pack_cache.ENV, str(where))
    return where


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "packs"
    shutil.copytree(PACK_DIR, copy, ignore=shutil.ignore_patterns("*.md"))
    return copy


def _files(cache: Path) -> list[Path]:
    return sorted(cache.glob("packs-*.pickle")) if cache.is_dir() else []


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, raw: bytes) -> runtime.Pack:
        raise AssertionError(f"{name} was read from YAML, not from the cache")

    monkeypatch.setattr(pack_schema, "parse_pack", refuse)


def _verdicts(packs: tuple[runtime.Pack, ...]) -> list[str]:
    engine = Engine(packs)
    return [json.dumps(engine.assess(derive(parse_facts(raw)), day).to_dict(locale), ensure_ascii=False)
            for raw in PROFILES for day in (date(2021, 6, 1), date(2027, 1, 3)) for locale in ("zh_CN", "en")]


def test_the_second_load_comes_from_the_cache_and_equals_the_yaml(cache: Path, pack_copy: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = load_packs(pack_copy, cache=False)
    assert _files(cache) == []
    first = load_packs(pack_copy)
    assert len(_files(cache)) == 1 and first == fresh
    _no_yaml(monkeypatch)
    cached = load_packs(pack_copy)
    monkeypatch.undo()   # the engine's penalties load the shipped packs, which this test's cache has not
    assert cached == fresh and cached is not first
    assert _verdicts(cached) == _verdicts(fresh)   # conditions compiled again after unpickling, same answers


def test_a_pack_whose_conditions_were_compiled_pickles_without_them() -> None:
    pack = next(p for p in load_packs(cache=False) if p.grounds and p.grounds[0].when is not None)
    condition = pack.grounds[0].condition
    assert "condition" in vars(pack.grounds[0])
    copy = pickle.loads(pickle.dumps(pack))
    assert copy == pack and "condition" not in vars(copy.grounds[0])
    assert copy.grounds[0].condition.facts == condition.facts


def test_an_edited_pack_is_read_again(cache: Path, pack_copy: Path) -> None:
    load_packs(pack_copy)
    old = _files(cache)
    path = pack_copy / "shandong_rules_2017.yaml"
    text = path.read_text(encoding="utf-8")
    old_title, new_title = "title: 《山东省清洁生产审核实施细则》\n", "title: 《山东省清洁生产审核实施细则（修订）》\n"
    assert old_title in text
    path.write_text(text.replace(old_title, new_title), encoding="utf-8")
    edited = {p.id: p for p in load_packs(pack_copy)}["shandong_rules_2017"]
    assert edited.title == "《山东省清洁生产审核实施细则（修订）》"
    assert edited.version == pack_schema.hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert len(_files(cache)) == 1 and _files(cache) != old   # the stale file is replaced, not kept beside


def test_the_next_process_sees_the_edit(cache: Path, pack_copy: Path) -> None:
    probe = ("import sys; from pathlib import Path; from rules.packs import load_packs; "
             "print({p.id: p for p in load_packs(Path(sys.argv[1]))}['shanxi_rules'].title)")

    def title() -> str:
        done = subprocess.run([sys.executable, "-c", probe, str(pack_copy)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return done.stdout.strip()

    before = title()
    assert len(_files(cache)) == 1
    path = pack_copy / "shanxi_rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"title: {before}", "title: 编辑后的标题"),
                    encoding="utf-8")
    assert title() == "编辑后的标题"


def test_an_added_or_removed_pack_is_read_again(cache: Path, pack_copy: Path) -> None:
    ids = {p.id for p in load_packs(pack_copy)}
    (pack_copy / "henan_voluntary_2018.yaml").unlink()
    assert {p.id for p in load_packs(pack_copy)} == ids - {"henan_voluntary_2018"}


def test_a_changed_loader_is_another_key(cache: Path, pack_copy: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    contents = [(p.name, p.read_bytes()) for p in sorted(pack_copy.glob("*.yaml"))]
    key = pack_cache.key_of(pack_copy, contents)
    schema = tmp_path / "pack_schema.py"
    schema.write_bytes((Path(pack_schema.__file__)).read_bytes() + b"\n# changed\n")
    files = tuple(schema if f.name == "pack_schema.py" else f for f in pack_cache.LOADER_FILES)
    monkeypatch.setattr(pack_cache, "LOADER_FILES", files)
    assert pack_cache.key_of(pack_copy, contents) not in (key, None)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign class", "other shape", "writable by others",
                                    "not ours"])
def test_a_bad_cache_file_falls_back_to_the_yaml(cache: Path, pack_copy: Path, damage: str) -> None:
    fresh = load_packs(pack_copy, cache=False)
    load_packs(pack_copy)
    (file,) = _files(cache)
    good = file.read_bytes()
    if damage == "garbage":
        file.write_bytes(b"not a pickle at all")
    elif damage == "truncated":
        file.write_bytes(good[: len(good) // 2])
    elif damage == "foreign class":
        file.write_bytes(pickle.dumps(OrderedDict(a=1)))
    elif damage == "other shape":
        file.write_bytes(pickle.dumps(("a pack?",)))
    elif damage == "writable by others":
        file.chmod(0o666)
    else:
        if os.getuid() != 0:
            pytest.skip("giving a file to another user needs root")
        os.chown(file, os.getuid() + 1, -1)
    assert pack_cache.read(file) is None
    again = load_packs(pack_copy)
    assert again == fresh and _verdicts(again) == _verdicts(fresh)
    assert pack_cache.read(file) == fresh   # and the file is made good again


def test_an_unwritable_cache_directory_is_no_error(tmp_path: Path, pack_copy: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(pack_cache.ENV, str(blocker / "cache"))   # cannot be created, not even by root
    fresh = load_packs(pack_copy, cache=False)
    assert load_packs(pack_copy) == fresh and load_packs(pack_copy) == fresh
    assert list(tmp_path.glob("**/*.pickle")) == []


def test_the_cache_directory_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(pack_cache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pack_cache.cache_dir() == tmp_path / "xdg" / "qingshen"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert pack_cache.cache_dir() == tmp_path / "home" / ".cache" / "qingshen"


def test_the_dataclasses_have_the_schemas_fields() -> None:
    names = sorted(pack_cache._CLASSES)
    for name in names:
        model = getattr(pack_schema, name)
        dataclass = getattr(runtime, name)
        assert [f.name for f in dataclasses.fields(dataclass)] == list(model.model_fields), name
        for f in dataclasses.fields(dataclass):
            info = model.model_fields[f.name]
            if info.is_required():
                assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, (name, f.name)
            else:
                default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
                assert default == info.get_default(call_default_factory=True), (name, f.name)
