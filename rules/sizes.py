"""Enterprise size for industrial enterprises, from employees and annual revenue, under partial knowledge.

Sources:

- 国家统计局《统计上大中小微型企业划分办法（2017）》(国统字〔2017〕213号), 附表, 工业 (采矿业, 制造业,
  电力、热力、燃气及水生产和供应业): 从业人员 X (人) and 营业收入 Y (万元)
    large 大型   X >= 1000 and Y >= 40000
    medium 中型  X >= 300  and Y >= 2000
    small 小型   X >= 20   and Y >= 300
    micro 微型   X < 20    or  Y < 300
  "大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；微型企业只须满足所列指标中的一项即可。"
  So the class is the lower of the class each measure reaches on its own.
- 规模以上工业企业 (above designated size): 国家统计局 statistical scope since 2011, 年主营业务收入
  2000万元及以上的工业法人单位.

Only the industrial table is implemented; other sectors (construction, retail ...) have other bounds.
"""

from __future__ import annotations

SCALES: tuple[str, ...] = ("micro", "small", "medium", "large")  # ascending; index = level
EMPLOYEE_BOUNDS: tuple[float, float, float] = (20, 300, 1000)  # lower bounds of small, medium, large
REVENUE_BOUNDS: tuple[float, float, float] = (300, 2000, 40000)  # 万元, same order
DESIGNATED_SIZE_REVENUE = 2000  # 万元, 规模以上工业企业


def derive_scale(employees: float | None, revenue_10k_yuan: float | None) -> str | None:
    """The class ("large", "medium", "small", "micro"), or None when the facts leave more than one open.

    With both measures known the class is always decided. With one unknown, a class is returned only
    when every value of the unknown one gives the same class, which happens only for micro: fewer than
    20 employees (or revenue under 300万元) make any enterprise micro, while e.g. 5000 employees with
    unknown revenue could still be anything from micro to large. A NaN counts as unknown.
    """
    e = _level(employees, EMPLOYEE_BOUNDS)
    r = _level(revenue_10k_yuan, REVENUE_BOUNDS)
    if e is None or r is None:
        return SCALES[0] if e == 0 or r == 0 else None
    return SCALES[min(e, r)]


def above_designated_size(revenue_10k_yuan: float | None) -> bool | None:
    """规模以上 (revenue of 2000万元 or more a year) as a bool; None when the revenue is unknown."""
    if revenue_10k_yuan is None or revenue_10k_yuan != revenue_10k_yuan:
        return None
    return revenue_10k_yuan >= DESIGNATED_SIZE_REVENUE


def _level(value: float | None, bounds: tuple[float, float, float]) -> int | None:
    """How many lower bounds the value reaches (0 micro .. 3 large); None when unknown or NaN."""
    if value is None or value != value:
        return None
    if value >= bounds[1]:
        return 3 if value >= bounds[2] else 2
    return 1 if value >= bounds[0] else 0
