"""Regenerate `handlers/data/places.yaml` and `handlers/data/pinyin.yaml` from jionlp's dictionaries.

    .venv/bin/pip install jionlp && .venv/bin/python -m handlers.extract_gen

jionlp (Apache-2.0, https://github.com/dongrixinyu/JioNLP) is NOT a runtime dependency: importing it
costs ~220 ms and its first place lookup another ~240 ms (README, "Reading messages"). Only two of its
plain-text dictionaries are read here, without importing the package:

- `dictionary/china_location.txt` (province / prefecture / county tree with GB/T 2260 codes): every
  prefecture-level city (full name and short name) and every county-level unit (full name; the short
  name too for counties and county-level cities when it is unique in the country, two characters or
  more, and not an everyday word) -> the two-digit province code.
- `dictionary/chinese_char_dictionary.txt` (character -> readings): the toned readings of every
  character that sounds like a character of a province's short name, for homophone typos (山希 -> 山西).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import yaml

OUT_DIR = Path(__file__).parent / "data"

# County short names that are everyday words (通道, 合作, 富裕, 南部 ...) or name something else in
# this domain (石棉 asbestos, 金川 the Jinchuan group, 东方 the Dongfang group): never read as places.
COMMON_WORDS = frozenset(
    [
        "合作", "富裕", "方正", "清水", "共和", "互助", "东方", "安宁", "富民", "通道", "大方", "永和",
        "白沙", "新星", "白杨", "双河", "石门", "龙门", "临江", "龙井", "磐石", "榆树", "五常", "大安",
        "江城", "开化", "南部", "金川", "石棉", "九龙", "黑水", "长顺", "太和", "大通", "新华", "和平",
        "城关", "新城", "长安", "平安", "红旗", "光明", "胜利", "解放", "先锋", "前进", "团结", "民主",
        "建设", "开发", "高新", "经开", "工业", "城区", "郊区", "矿区", "市中", "中心", "东区", "西区",
        "南区", "北区", "铁西", "铁东", "永安", "宁国", "安化", "新化", "修文", "会同", "全南", "定南",
        "安远", "宁都", "长宁", "南康", "万宁", "和顺", "大同", "同心", "乐业", "德保", "都安", "平果",
        "凭祥", "东兴", "合山", "永福", "灵川", "全州", "兴安", "资源", "龙胜", "恭城", "阳朔", "临桂",
        "荔浦", "平乐", "昭平", "钟山", "富川", "天等", "大新", "龙州", "宁明", "扶绥", "上林", "马山",
        "隆安", "宾阳", "横州", "红河", "文山", "大理", "普洱", "保山", "玉树", "阿里", "山南", "海北",
        "海西", "海东", "海南", "兴海", "同仁", "共青城", "石林", "通海", "新平", "镇雄", "彝良", "威信",
        "水富", "永善", "大关", "盐津", "巧家", "鲁甸", "会泽", "宣威", "富源", "罗平", "师宗", "陆良",
        "吉安", "安福", "永新", "永丰", "新干", "峡江", "泰和", "万安", "遂川", "井冈山", "宜丰", "上高",
        "靖安", "奉新", "铜鼓", "万载", "和静", "和硕", "新和", "新源", "乌兰", "都兰", "天峻", "民和",
        "乐都", "化隆", "门源", "祁连", "海晏", "刚察", "贵德", "贵南", "同德", "泽库", "玛多", "称多",
        "囊谦", "白玉", "德格", "新龙", "道孚", "炉霍", "雅江", "理塘", "巴塘", "乡城", "稻城", "得荣",
        "色达", "石渠", "宝兴", "芦山", "天全", "荥经", "汉源", "峨边", "马边", "沐川", "井研", "夹江",
        "丹棱", "洪雅", "青神", "仁寿", "乐至", "安岳", "射洪", "蓬溪", "大英", "旺苍", "青川", "剑阁",
        "苍溪", "三台", "盐亭", "梓潼", "北川", "平武", "中江", "罗江", "合江", "叙永", "古蔺", "富顺",
        "荣县", "米易", "盐边", "会理", "会东", "德昌", "普格", "布拖", "金阳", "昭觉", "喜德", "冕宁",
        "越西", "甘洛", "美姑", "雷波", "木里", "盐源", "宁南", "小金", "红原", "松潘", "兴文", "屏山",
        "江安", "筠连", "西充", "仪陇", "蓬安", "营山", "平昌", "通江", "南江", "万源", "宣汉", "大竹",
        "邻水", "武胜", "岳池", "安龙", "普安", "开阳", "息烽", "清镇", "大悟", "东至", "长丰", "全椒",
        "定远", "明光", "天长", "界首", "无为", "广德", "泾县", "旌德", "绩溪", "休宁", "祁门", "黟县",
        "歙县", "宁乡", "韶山", "津市", "资兴", "洪江", "武冈", "临湘", "沅江", "吉首", "凤凰", "花垣",
        "保靖", "古丈", "永顺", "龙山", "桑植", "慈利", "石首", "监利", "公安", "松滋", "安陆", "应城",
        "汉川", "云梦", "孝昌", "大冶", "阳新", "通山", "通城", "崇阳", "嘉鱼", "赤壁", "红安", "罗田",
        "英山", "浠水", "蕲春", "黄梅", "武穴", "麻城", "团风", "安达", "海伦", "北安", "铁力", "同江",
        "富锦", "抚远", "虎林", "密山", "穆棱", "东宁", "宁安", "海林", "尚志", "德惠", "农安", "双辽",
        "扶余", "洮南", "集安", "和龙", "图们", "珲春", "蛟河", "桦甸", "舒兰", "开原", "新乐", "平山",
        "正定", "安新", "容城", "高邑", "和林", "凉城", "甘谷", "永登", "会宁", "清河", "永年", "大名",
        "魏县", "曲周", "广平", "馆陶", "临西", "新河", "巨鹿", "任县", "平乡", "威县", "广宗", "南和",
        "内丘", "柏乡", "隆尧", "宁晋", "高阳", "博野", "蠡县", "雄县", "安国", "兴隆", "宽城", "隆化",
        "丰宁", "平泉", "滦平", "围场", "怀来", "涿鹿", "阳原", "尚义", "康保", "沽源", "张北", "崇礼",
        "万全", "文安", "大城", "固安", "永清", "香河", "三河", "霸州", "献县", "肃宁", "河间", "任丘",
        "泊头", "黄骅", "盐山", "海兴", "南皮", "东光", "吴桥", "青县", "沧县", "武邑", "武强", "饶阳",
        "安平", "故城", "景县", "阜城", "冀州", "深州", "枣强", "东明", "成武", "单县", "巨野", "定陶",
        "鄄城", "郓城", "曹县", "金乡", "嘉祥", "汶上", "泗水", "梁山", "微山", "鱼台", "永吉", "安图",
        "汪清", "抚松", "靖宇", "长白", "临江", "辉南", "柳河", "东丰", "东辽", "伊通", "梨树", "公主岭",
        "阿荣", "莫力", "鄂伦", "扎兰", "牙克石", "根河", "额尔古纳", "满洲里", "乌兰浩特", "阿尔山", "科右", "突泉",
        "安顺", "铜仁", "毕节", "遵义", "六盘水", "凯里", "都匀", "兴义", "仁怀", "赤水", "福泉", "开平",
        "台山", "恩平", "鹤山", "四会", "罗定", "阳春", "化州", "信宜", "高州", "吴川", "廉江", "雷州",
        "英德", "连州", "乐昌", "南雄", "兴宁", "普宁", "陆丰", "博罗", "惠东", "龙门", "紫金", "连平",
        "和平", "东源", "五华", "丰顺", "大埔", "蕉岭", "平远", "天门", "仙桃", "潜江", "神农架", "当阳",
        "枝江", "宜都", "远安", "兴山", "秭归", "长阳", "五峰", "老河口", "枣阳", "宜城", "钟祥", "京山",
        "沙洋", "利川", "建始", "巴东", "宣恩", "咸丰", "来凤", "鹤峰", "竹山", "竹溪", "房县", "丹江口",
        "郧西", "华容", "湘阴", "平江", "汨罗", "岳阳", "安乡", "汉寿", "澧县", "临澧", "桃源", "石门",
        "常宁", "耒阳", "衡南", "衡山", "衡东", "祁东", "永安", "福安", "福鼎", "霞浦", "古田", "屏南",
        "寿宁", "周宁", "柘荣", "建瓯", "邵武", "光泽", "松溪", "政和", "浦城", "顺昌", "长汀", "上杭",
        "武平", "连城", "漳平", "永定", "南靖", "平和", "华安", "长泰", "东山", "诏安", "云霄", "漳浦",
        "龙海", "南安", "安溪", "永春", "德化", "金门", "惠安", "石狮", "晋江", "仙游", "大田", "尤溪",
        "沙县", "将乐", "泰宁", "建宁", "明溪", "清流", "宁化", "闽清", "永泰", "连江", "罗源", "平潭",
        "福清", "长乐", "云县", "泸水", "福贡", "贡山", "兰坪", "香格里拉", "德钦", "维西", "东乡", "广河",
        "和政", "积石山", "康乐", "永靖", "临潭", "卓尼", "舟曲", "迭部", "玛曲", "碌曲", "夏河", "新建",
        "新区", "开发区", "城中", "城西", "城东", "城北", "城南",
    ]
)

_READING_RE = re.compile(r"\[([^\]]+)\]")
_TONE_MARKS = {
    "ā": ("a", 1), "á": ("a", 2), "ǎ": ("a", 3), "à": ("a", 4),
    "ē": ("e", 1), "é": ("e", 2), "ě": ("e", 3), "è": ("e", 4),
    "ī": ("i", 1), "í": ("i", 2), "ǐ": ("i", 3), "ì": ("i", 4),
    "ō": ("o", 1), "ó": ("o", 2), "ǒ": ("o", 3), "ò": ("o", 4),
    "ū": ("u", 1), "ú": ("u", 2), "ǔ": ("u", 3), "ù": ("u", 4),
    "ǖ": ("v", 1), "ǘ": ("v", 2), "ǚ": ("v", 3), "ǜ": ("v", 4), "ü": ("v", 5),
}


def _jionlp_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("jionlp")  # locates the package without importing it
    if spec is None or spec.origin is None:
        raise SystemExit("extract_gen: pip install jionlp first (it is only needed to regenerate the data)")
    return Path(spec.origin).parent / "dictionary"


def _places(src: Path) -> dict[str, dict[str, list[str]]]:
    """Province code -> {"cities": names, "counties": names}."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"cities": [], "counties": []})
    short_count: dict[str, set[str]] = defaultdict(set)
    counties: list[tuple[str, str, str]] = []
    city_names: set[str] = set()
    for line in src.read_text(encoding="utf-8").splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        cells = line.strip().split("\t")
        if depth > 2 or len(cells) != 3:
            continue
        name, code, short = cells
        prov = code[:2]
        if depth == 0 or prov in ("71", "81", "82"):
            continue
        if depth == 1:
            # the four municipalities list themselves as their only city; 省直辖 is a placeholder
            if prov not in ("11", "12", "31", "50") and name != "省直辖行政区划":
                out[prov]["cities"] += [name] + ([short] if len(short) >= 2 and short != name else [])
                city_names.update((name, short))
            continue
        counties.append((name, short, prov))
        short_count[short].add(prov)
    provinces = {line.split("\t")[2] for line in src.read_text(encoding="utf-8").splitlines() if line[:1] != "\t"}
    full_count: dict[str, set[str]] = defaultdict(set)
    for name, _short, prov in counties:
        full_count[name].add(prov)
    for name, short, prov in counties:
        if len(full_count[name]) == 1 and name not in city_names:
            out[prov]["counties"].append(name)
        if (
            name.endswith(("县", "市", "旗"))
            and len(short) >= 2
            and short != name
            and len(short_count[short]) == 1
            and short not in city_names
            and short not in provinces
            and short not in COMMON_WORDS
        ):
            out[prov]["counties"].append(short)
    return {
        p: {k: sorted(set(v), key=lambda s: (len(s), s)) for k, v in sorted(d.items())} for p, d in sorted(out.items())
    }


def _split_reading(r: str) -> str | None:
    """"shān" -> "shan1"; None for anything that is not one syllable."""
    r = unicodedata.normalize("NFC", r.strip().lower())
    tone = 5
    plain = []
    for ch in r:
        if ch in _TONE_MARKS:
            base, t = _TONE_MARKS[ch]
            plain.append(base)
            tone = t if t != 5 else tone
        elif "a" <= ch <= "z":
            plain.append(ch)
        else:
            return None
    return f"{''.join(plain)}{tone}" if plain else None


def _pinyin(src: Path, province_shorts: list[str]) -> dict[str, str]:
    """Character -> its toned readings (space-separated), for characters that sound like a province's."""
    readings: dict[str, list[str]] = {}
    for line in src.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) < 8 or len(cells[0]) != 1:
            continue
        found = [s for r in _READING_RE.findall(cells[7]) if (s := _split_reading(r))]
        if found:
            readings[cells[0]] = list(dict.fromkeys(found))
    wanted = {s[:-1] for name in province_shorts for ch in name for s in readings.get(ch, [])}
    return {
        ch: " ".join(rs) for ch, rs in sorted(readings.items()) if any(r[:-1] in wanted for r in rs)
    }


def main() -> int:
    from rules.provinces import all_provinces

    src = _jionlp_dir()
    header = (
        "# GENERATED by `python -m handlers.extract_gen` from jionlp's {file} (Apache-2.0,\n"
        "# https://github.com/dongrixinyu/JioNLP); do not edit by hand. {what}\n"
    )
    places = _places(src / "china_location.txt")
    (OUT_DIR / "places.yaml").write_text(
        header.format(
            file="dictionary/china_location.txt",
            what="Two-digit GB/T 2260 province code ->\n# prefecture-level cities and county-level units "
            "(names as typed in chat) that lie in it.",
        )
        + yaml.safe_dump({p: {k: " ".join(v) for k, v in d.items()} for p, d in places.items()},
                         allow_unicode=True, width=10_000, sort_keys=True),
        encoding="utf-8",
    )
    shorts = [p.short for p in all_provinces()]
    table = _pinyin(src / "chinese_char_dictionary.txt", shorts)
    (OUT_DIR / "pinyin.yaml").write_text(
        header.format(
            file="dictionary/chinese_char_dictionary.txt",
            what="Character -> toned readings\n# (tone 1-4, 5 neutral), only for characters that sound "
            "like a character of a province's short name.",
        )
        + yaml.safe_dump(table, allow_unicode=True, width=10_000, sort_keys=True),
        encoding="utf-8",
    )
    n = sum(len(d["cities"]) + len(d["counties"]) for d in places.values())
    print(f"extract_gen: {n} place names, {len(table)} characters with readings", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
