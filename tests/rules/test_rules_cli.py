"""`qingshen rules check` and `qingshen rules test`, run as a pack author runs them (subprocesses of
`python -m bot.cli`), on the worked example of rules/packs/SCHEMA.md (tests/rules/fixtures/example)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rules.pack_check import cn_number, normalise, quote_problem

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).parent / "fixtures" / "example"
PACK = EXAMPLE / "packs" / "hebei_example_2026.yaml"
CASES = EXAMPLE / "cases" / "hebei_example_2026.yaml"


def qingshen(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def variant(tmp: Path, name: str, old: str, new: str) -> Path:
    """A copy of the example pack with one edit, in tmp/<name>/packs beside a copy of its source text."""
    (tmp / name / "packs").mkdir(parents=True)
    shutil.copytree(EXAMPLE / "sources", tmp / name / "sources")
    text = PACK.read_text(encoding="utf-8")
    assert old in text
    path = tmp / name / "packs" / PACK.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in line)


def test_the_example_pack_passes() -> None:
    run = qingshen("rules", "check", PACK)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == f"{PACK}: ok"


Bad = tuple[dict[str, Path], subprocess.CompletedProcess[str]]   # the bad packs, and one check of them all
BAD = {
    "bad_date": ("effective_from: 2026-07-01", "effective_from: 2026-02-30"),
    "order": ("effective_until: 2031-06-30", "effective_until: 2025-06-30"),
    "published": ("published_on: 2026-06-01", "published_on: 2026-08-01"),
    "missing": ("issuer: 河北省示例厅\n", ""),
    "quote": ("quote: 使用有毒有害原料进行生产", "quote: 使用有毒原料进行生产"),
    "article": ("citation: 第十条", "citation: 第十一条"),
    "kind": ("kind: toxic", "kind: toxics"),
}


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Bad:
    tmp = tmp_path_factory.mktemp("packs")
    packs = {name: variant(tmp, name, old, new) for name, (old, new) in BAD.items()}
    return packs, qingshen("rules", "check", *packs.values())


def problems(bad: Bad, name: str) -> list[str]:
    packs, run = bad
    return [line for line in run.stdout.splitlines() if line.startswith(f"{packs[name]}:")]


def test_bad_packs_fail_one_line_per_problem_without_a_traceback(bad: Bad) -> None:
    _packs, run = bad
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == f"0 of {len(BAD)} packs ok"
    for name in BAD:
        assert problems(bad, name), f"{name}: no problem reported\n{run.stdout}"


def test_a_wrong_date_names_the_field_and_its_line(bad: Bad) -> None:
    (line,) = problems(bad, "bad_date")
    n = line_of(bad[0]["bad_date"], "effective_from:")
    assert line.startswith(f"{bad[0]['bad_date']}:{n}: effective_from: 2026-02-30 is not a day of the calendar")


def test_dates_out_of_order_name_the_later_field(bad: Bad) -> None:
    (line,) = problems(bad, "order")
    assert ": effective_until: 2025-06-30 is before effective_from 2026-07-01" in line
    (line,) = problems(bad, "published")
    assert ": effective_from: 2026-07-01 is before published_on 2026-08-01" in line


def test_a_missing_field_is_named(bad: Bad) -> None:
    (line,) = problems(bad, "missing")
    assert line.endswith(": issuer: required, missing")


def test_a_quote_not_in_the_source_is_named_with_where_it_differs(bad: Bad) -> None:
    (line,) = problems(bad, "quote")
    n = line_of(bad[0]["quote"], "quote: 使用有毒原料进行生产")
    assert f":{n}: grounds[1].quote: not found in the source text: 「使用有毒原料进行生产" in line
    assert "the text has 「使用有毒」" in line


def test_a_citation_of_an_article_the_text_lacks_is_named(bad: Bad) -> None:
    (line,) = problems(bad, "article")
    assert line.endswith(": report_to[0].citation: the source text has no article 「第十一条」")


def test_a_wrong_value_is_named_with_what_was_given(bad: Bad) -> None:
    (line,) = problems(bad, "kind")
    assert ": grounds[1].kind: Input should be 'pollution'" in line and "(got 'toxics')" in line


def test_the_source_can_be_given_and_must_hold_every_quote(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("第五条 第八条 第十条 第十二条 无关的文字。", encoding="utf-8")
    run = qingshen("rules", "check", PACK, "--source", other)
    assert run.returncode == 1
    quotes = [line for line in run.stdout.splitlines() if ".quote: not found in the source text" in line]
    assert len(quotes) == 4, run.stdout   # two grounds, the deadline and the office


def test_without_a_source_text_the_check_fails_and_says_where_to_put_it(tmp_path: Path) -> None:
    pack = tmp_path / PACK.name
    shutil.copy(PACK, pack)
    run = qingshen("rules", "check", pack)
    assert run.returncode == 1
    assert f"put the document's text at {tmp_path.parent / 'sources' / 'hebei_example_2026.txt'}" in run.stdout


def test_not_yaml_and_not_utf8_are_one_line_each(tmp_path: Path) -> None:
    broken, latin = tmp_path / "broken.yaml", tmp_path / "latin.yaml"
    broken.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    latin.write_bytes("id: 河北".encode("gb18030"))
    run = qingshen("rules", "check", broken, latin)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    lines = run.stdout.splitlines()
    assert re.match(rf"{re.escape(str(broken))}:\d+: \(file\): not valid YAML", lines[0]), lines
    assert lines[1] == f"{latin}: (file): the pack is not UTF-8 text (byte 4)", lines


def test_the_shipped_packs_with_their_source_texts_pass() -> None:
    shipped = [p for p in sorted((ROOT / "rules" / "packs").glob("*.yaml"))
               if (ROOT / "rules" / "sources" / f"{p.stem}.txt").exists()]
    assert len(shipped) >= 6
    run = qingshen("rules", "check", *shipped)
    ok = [line for line in run.stdout.splitlines() if line.endswith(": ok")]
    # national_law_2002's source is an excerpt without its 第四十二条 (the validity article).
    assert len(ok) >= len(shipped) - 1, run.stdout


def test_chinese_numerals_and_whitespace() -> None:
    numerals = ("八", "十一", "二十七", "一百零一", "九百零一", "一千零一")
    assert [cn_number(x) for x in numerals] == [8, 11, 27, 101, 901, 1001]
    assert cn_number("十十") is None and cn_number("二三") is None
    assert normalise("走节\n\n能降耗 ，each  word") == "走节能降耗，each word"
    assert quote_problem("各市……提出名单", normalise("各市生态环境局每年 2 月底前提出名单")) is None
    assert quote_problem("提出名单……各市", normalise("各市提出名单")) is not None   # pieces in their order


# -- rules test ---------------------------------------------------------------------------------------------


def test_rules_test_passes_the_example_cases_naming_each() -> None:
    run = qingshen("rules", "test", CASES, "--packs", EXAMPLE / "packs")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    assert "hebei_example_2026.yaml::From 2026-07-01 a Hebei polluter must also audit under art. 5(1)" in run.stdout


def test_rules_test_without_the_new_pack_fails_the_cases_that_need_it() -> None:
    run = qingshen("rules", "test", CASES)
    assert run.returncode == 1
    assert "2 failed" in run.stdout  # the first case names the pack too (not yet in force)
    assert re.search(r"FAILED \S*hebei_example_2026.yaml::From 2026-07-01 a Hebei polluter must also", run.stdout)
    assert "unknown document hebei_example_2026" in run.stdout


def test_rules_test_reports_a_failing_case_by_its_name_and_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES.read_text(encoding="utf-8") + (
        "\n- name: This case wrongly expects a Hebei polluter to be voluntary.\n"
        "  as_of: 2026-07-01\n"
        "  facts: {province: hebei, exceeds_emission_standard: true}\n"
        "  expect: {obligation: voluntary}\n"), encoding="utf-8")
    run = qingshen("rules", "test", cases, "--packs", EXAMPLE / "packs", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stdout
    assert "FAILED cases.yaml::This case wrongly expects a Hebei polluter to be voluntary." in run.stdout
    line = line_of(cases, "This case wrongly expects")
    assert f"cases.yaml:{line}: This case wrongly expects a Hebei polluter to be voluntary.\n  got: " \
           "obligation=mandatory" in run.stdout
    assert "expected obligation=voluntary" in run.stdout
    assert "2 passed" in run.stdout


def test_a_duplicate_name_is_a_collection_error_naming_it(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    one = "- name: The same sentence twice.\n  as_of: 2026-07-01\n  facts: {}\n  expect: {}\n"
    cases.write_text(one + one, encoding="utf-8")
    run = qingshen("rules", "test", cases, cwd=tmp_path)
    assert run.returncode == 1
    assert "cases.yaml:5: the name is already that of the case at line 1: The same sentence twice." in run.stdout


def collected(path: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "rules.pytest_cases", "-p", "no:cacheprovider",
                          "--noconftest", "--collect-only", "-q", "--rootdir", str(path.parent), str(path)],
                         cwd=path.parent, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return [line for line in run.stdout.splitlines() if "::" in line]


def test_inserting_a_case_keeps_the_other_ids(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    first, second = CASES.read_text(encoding="utf-8").split("\n- name: From 2026-07-01")
    cases.write_text(CASES.read_text(encoding="utf-8"), encoding="utf-8")
    before = collected(cases)
    inserted = ("\n- name: A case inserted between the two others.\n  as_of: 2026-07-01\n"
                "  facts: {province: hebei}\n  expect: {}\n")
    cases.write_text(first + inserted + "\n- name: From 2026-07-01" + second, encoding="utf-8")
    after = collected(cases)
    assert len(before) == 2 and len(after) == 3
    assert after == [before[0], "cases.yaml::A case inserted between the two others.", before[1]]
