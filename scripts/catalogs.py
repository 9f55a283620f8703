"""Babel catalogs: `python -m scripts.catalogs extract|update|compile|check`.

check fails when a message in the code has no translation (or a fuzzy one) in zh_CN or en, or
when a translation drops or invents a {placeholder}.
"""

from __future__ import annotations

import ast
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
PACKAGES = ("bot", "handlers", "rules", "storage")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "_n": (1, 2)}
LANGS = ("zh_CN", "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def extract() -> Catalog:
    catalog = Catalog(project="qingshen", charset="utf-8")
    for pkg in PACKAGES:
        method_map = [("**.py", "python"), ("**/static/**.html", "ignore"),
                      ("**/templates/**.html", "jinja2.ext:babel_extract")]
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / pkg, method_map=method_map, keywords=KEYWORDS
        ):
            catalog.add(message, locations=[(f"{pkg}/{filename}", lineno)], auto_comments=comments,
                        context=context)
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for lineno, message in _in_fstrings(path):
                catalog.add(message, locations=[(str(path.relative_to(ROOT)), lineno)])
    return catalog


def _in_fstrings(path: Path) -> list[tuple[int, str]]:
    """Messages marked inside f-string expressions, which Babel's tokenizer cannot see on Python 3.11."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in KEYWORDS
                        and call.args and isinstance(call.args[0], ast.Constant)
                        and isinstance(call.args[0].value, str)):
                    found.append((call.lineno, call.args[0].value))
    return found


def _po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def _read(lang: str) -> Catalog:
    path = _po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project="qingshen", charset="utf-8")
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False, sort_output=True)
    path.write_bytes(buf.getvalue())


def update() -> None:
    template = extract()
    _write(template, LOCALES / "messages.pot")
    for lang in LANGS:
        catalog = _read(lang)
        catalog.update(template, no_fuzzy_matching=True)
        if lang == "en":  # msgids are English: prefill, as msgen would, for a reviewer to adjust
            for msg in catalog:
                if msg.id and not msg.string:
                    msg.string = msg.id
        _write(catalog, _po_path(lang))


def compile_all(dest: Path = LOCALES) -> list[Path]:
    """Write `dest/<lang>/LC_MESSAGES/messages.mo` for each locale (beside the .po files by default; setup.py
    passes the wheel's rules/locales). Returns the files written."""
    written = []
    for lang in LANGS:
        catalog = _read(lang)
        path = dest / lang / "LC_MESSAGES" / "messages.mo"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(path)
    return written


def problems() -> list[str]:
    template = extract()
    found: list[str] = []
    for lang in LANGS:
        catalog = _read(lang)
        for msg in template:
            if not msg.id:
                continue
            ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
            have = catalog.get(msg.id)
            strings = () if have is None else (have.string if isinstance(have.string, tuple) else (have.string,))
            where = ", ".join(f"{f}:{n}" for f, n in msg.locations[:2])
            if have is None or not all(strings) or have.fuzzy:
                found.append(f"{lang}: untranslated {ids[0]!r} ({where})")
                continue
            want = set(PLACEHOLDER.findall(str(ids[0])))
            for s in strings:
                if set(PLACEHOLDER.findall(str(s))) != want:
                    found.append(f"{lang}: placeholders differ in {ids[0]!r}: {s!r}")
    return found


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "check"
    if cmd == "extract":
        _write(extract(), LOCALES / "messages.pot")
    elif cmd == "update":
        update()
    elif cmd == "compile":
        compile_all()
    elif cmd == "check":
        found = problems()
        for p in found:
            print(p, file=sys.stderr)
        if found:
            print(f"{len(found)} catalog problem(s): run `python -m scripts.catalogs update` and translate",
                  file=sys.stderr)
            return 1
        print("catalogs: every message translated in " + ", ".join(LANGS))
    else:
        print(f"unknown command {cmd!r}: extract | update | compile | check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
