"""The router keeps readings by (text, day, open question) (`handlers.router.read_kept`): a kept reading is
what `extract.read` reads, for every utterance of the corpus; the same words on another day or under another
question are read again; a reading with a list value (toxic classes) is never kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from handlers import extract, router
from handlers.router import read_kept

CORPUS = Path(__file__).parent / "extraction_corpus.yaml"
DAYS = (date(2026, 12, 1), date(2027, 5, 1))


def test_a_kept_reading_is_the_reading_for_the_whole_corpus() -> None:
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["cases"]
    for case in cases:
        today = date.fromisoformat(str(case.get("today", DAYS[0])))
        for asking in {case.get("asking"), None}:
            fresh = extract.read(case["text"], today=today, asking=asking)
            assert read_kept(case["text"], today=today, asking=asking) == fresh, case["text"]
            assert read_kept(case["text"], today=today, asking=asking) == fresh, case["text"]  # kept


def test_another_day_or_another_question_is_read_again() -> None:
    spring, winter = (read_kept("3月31号", today=d, asking="list_published_on") for d in DAYS)
    assert spring.get("list_published_on") is not None and winter.get("list_published_on") is not None
    assert [spring.get("list_published_on").value, winter.get("list_published_on").value] == [  # type: ignore[union-attr]
        "2026-03-31", "2027-03-31"]
    asked = read_kept("两个亿", today=DAYS[0], asking="revenue_10k_yuan").get("revenue_10k_yuan")
    unasked = read_kept("两个亿", today=DAYS[0], asking=None).get("revenue_10k_yuan")
    assert asked is not None and unasked is not None
    assert asked.confidence >= extract.SURE > unasked.confidence  # a bare amount is sure only when revenue is asked


def test_a_reading_with_a_list_value_is_not_kept() -> None:
    reading = read_kept("用到铬", today=DAYS[0], asking=None)
    assert reading.get("toxic_classes") is not None
    assert ("用到铬", DAYS[0], None) not in router._readings
    read_kept("山东", today=DAYS[0], asking=None)
    assert ("山东", DAYS[0], None) in router._readings
