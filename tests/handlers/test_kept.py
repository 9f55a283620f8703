"""handlers.kept.Kept, the bounded LRU the router's readings and the ordering's scores share."""

from __future__ import annotations

import threading

from handlers.kept import Kept


def test_the_least_recently_used_goes_first() -> None:
    kept: Kept[int] = Kept(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1          # "a" used: "b" is now the oldest
    kept.put("c", 3)
    assert "b" not in kept and kept.get("a") == 1 and kept.get("c") == 3 and len(kept) == 2


def test_size_zero_keeps_nothing_and_clear_empties() -> None:
    none: Kept[int] = Kept(0)
    none.put("a", 1)
    assert none.get("a") is None and len(none) == 0
    kept: Kept[int] = Kept(5)
    kept.put("a", 1)
    kept.clear()
    assert kept.get("a") is None


def test_threads_never_grow_it_past_its_size() -> None:
    kept: Kept[int] = Kept(50)

    def fill(base: int) -> None:
        for i in range(2000):
            kept.put((base, i), i)
            kept.get((base, i - 1))

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kept) == 50
