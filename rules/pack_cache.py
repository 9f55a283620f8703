"""The validated packs of a directory kept in a cache file, so that a fresh process does not parse and
validate the YAML again (and does not import pydantic to do it): `qingshen assess` starts in a third less.

- Where: `$QINGSHEN_CACHE_DIR`, else `$XDG_CACHE_HOME/qingshen`, else `~/.cache/qingshen`; one file per pack
  directory (`packs-<directory digest>-<key>.pickle`, the older ones of that directory removed on writing).
- The key is a SHA-256 over the format, the Python version, the directory, every pack file's name and
  content, and the content of the code that loads and validates them (`LOADER_FILES`): an edited pack, an
  added or removed one, or a changed schema is never served from an old file.
- It is only an optimisation: a file that is missing, unreadable, corrupt, not ours or of another shape is
  ignored, and a directory that cannot be written is not written; the packs are then read from YAML.
- The file is a pickle read with an unpickler that builds only the dataclasses of `rules.packs` and dates,
  and only from a file owned by this user and writable by nobody else.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import Any

import rules.packs as packs

FORMAT = b"qingshen-packs-1"
ENV = "QINGSHEN_CACHE_DIR"
_HERE = Path(__file__).resolve().parent
# The code whose change can change what a pack loads to: the dataclasses, the schema, this file, and the
# provinces a pack's jurisdiction is checked against.
LOADER_FILES = (_HERE / "packs.py", _HERE / "pack_schema.py", _HERE / "pack_cache.py", _HERE / "conditions.py",
                _HERE / "provinces.py", _HERE / "data" / "provinces.yaml")
_CLASSES = frozenset({"Pack", "Ground", "TableRow", "Table", "Disclosure", "ReportTo", "PeriodSpec", "Deadline",
                      "Voluntary", "OfficerDate", "YearlyDate", "Duty", "ArticleMap", "Supersedes"})


def cache_dir() -> Path | None:
    """The directory of the cache files, or None when there is no home to put it in."""
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "qingshen"
    try:
        return Path.home() / ".cache" / "qingshen"
    except RuntimeError:  # no home directory can be found
        return None


def key_of(directory: Path, contents: list[tuple[str, bytes]]) -> Path | None:
    """The cache file for these pack files of `directory`, or None (no cache directory, loader unreadable)."""
    where = cache_dir()
    if where is None:
        return None
    digest = hashlib.sha256(FORMAT)
    digest.update(sys.version.encode())
    try:
        for file in LOADER_FILES:
            digest.update(hashlib.sha256(file.read_bytes()).digest())
        place = str(directory.resolve()).encode()
    except OSError:
        return None
    digest.update(hashlib.sha256(place).digest())
    for name, data in contents:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return where / f"packs-{hashlib.sha256(place).hexdigest()[:12]}-{digest.hexdigest()[:32]}.pickle"


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "rules.packs" and name in _CLASSES:
            return getattr(packs, name)
        if (module, name) == ("datetime", "date"):
            return date
        raise pickle.UnpicklingError(f"{module}.{name} is not a class of a rule pack")


def read(path: Path) -> tuple[packs.Pack, ...] | None:
    """The packs kept in `path`, or None when it is missing or cannot be trusted or read."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None
            loaded = _Unpickler(f).load()
    except Exception:  # missing, unreadable, truncated, corrupt: read the YAML instead
        return None
    if not isinstance(loaded, tuple) or not all(type(p) is packs.Pack for p in loaded):
        return None
    return loaded


def write(path: Path, loaded: tuple[packs.Pack, ...]) -> bool:
    """Keep `loaded` in `path` (atomically; the directory's older files removed). False when it cannot."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        data = pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except Exception:  # unwritable, full, a pack that does not pickle: the next start reads the YAML again
        with contextlib.suppress(OSError):
            temp.unlink()
        return False
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(prefix + "*.pickle"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()
    return True
