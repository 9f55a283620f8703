"""Build hook (the rest of the configuration is in pyproject.toml): the wheel carries the compiled catalogs.

`build_py` compiles locales/<lang>/LC_MESSAGES/messages.po into rules/locales/<lang>/LC_MESSAGES/messages.mo
inside the build, where rules/i18n.py looks first, so `pip install .` speaks Chinese. An editable install
reads ./locales instead (compiled by `make catalogs`), so nothing is written into the source tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        sys.path.insert(0, str(HERE))
        try:
            from scripts.catalogs import compile_all
        finally:
            sys.path.remove(str(HERE))
        for path in compile_all(Path(self.build_lib) / "rules" / "locales"):
            self.announce(f"compiled {path}", level=2)


setup(cmdclass={"build_py": BuildPyWithCatalogs})
