"""Varied, reproducible enterprise profiles for the benchmarks."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

PROVINCES = ("shanxi", "shandong", "xinjiang", "henan", "hebei", "14", "37", "65", "41", "guangdong")
CODES = ("3011", "3360", "2521", "4411", "0610", "1713", "2710", "3311", "3411", "5211", "1331", "2614", "3012")
TOXIC = ("hazardous_waste", "highly_toxic_chemical", "heavy_metal", "pop", "other_toxic")


def profile(rng: random.Random) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if rng.random() < 0.9:
        facts["province"] = rng.choice(PROVINCES)
    if rng.random() < 0.8:
        facts["industry_code"] = rng.choice(CODES)
    r = rng.random()
    if r < 0.4:
        facts["scale"] = rng.choice(("large", "medium", "small", "micro"))
    elif r < 0.7:
        facts["employees"] = rng.randint(1, 3000)
        facts["revenue_10k_yuan"] = rng.randint(10, 90000)
    for name in ("exceeds_emission_standard", "exceeds_total_quota", "exceeds_energy_limit",
                 "missed_energy_target", "has_extraction", "has_industrial_coating", "on_master_list",
                 "above_designated_size", "central_enterprise"):
        if rng.random() < 0.5:
            facts[name] = rng.random() < 0.2
    if rng.random() < 0.5:
        facts["toxic_classes"] = rng.sample(TOXIC, rng.randint(0, 2))
    base = date(2015, 1, 1)
    for name in ("list_published_on", "last_audit_completed_on", "evaluated_on", "accepted_on"):
        if rng.random() < 0.4:
            facts[name] = (base + timedelta(days=rng.randint(0, 4500))).isoformat()
    return facts


def profiles(n: int, seed: int = 20261124) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [profile(rng) for _ in range(n)]
