"""A list file imported by an officer, from the dashboard or `qingshen officer import` (one path for both):
check it into a preview that says what an import would create, then import it in one transaction.

`check_upload` writes nothing. `apply_upload` reads the file again (the browser sends it twice, so the
server keeps no upload between the two steps): the same file twice changes nothing, and a file with
row errors imports nothing unless the officer accepts the valid rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from handlers.compliance import visible_import
from handlers.cycles import import_rows
from handlers.listimport import DEFAULT_MAX_ROWS, Preview, read_list
from handlers.officers import Jurisdiction, authorize
from storage import Repositories
from storage.imports import ImportOutcome
from storage.models import ListImport, Officer

CHUNK = 900


@dataclass(frozen=True)
class UploadCheck:
    preview: Preview
    seen: ListImport | None  # this file, already imported as a list the officer may see
    new_enterprises: int  # valid rows whose enterprise is not known yet
    known_enterprises: int


def check_upload(sessions: sessionmaker[Session], officer: Officer, data: bytes, filename: str, *,
                 today: date, max_rows: int = DEFAULT_MAX_ROWS) -> UploadCheck:
    """The preview of `data` for the officer's jurisdiction; ListFileError if the file is refused."""
    preview = read_list(data, filename, Jurisdiction.of(officer), today=today, max_rows=max_rows)
    with sessions() as session:
        repos = Repositories(session)
        seen = visible_import(officer, repos.imports.get_by_hash(officer.province, preview.sha256))
        codes = [r.credit_code for r in preview.rows]
        known = sum(len(repos.enterprises.list_by_credit_codes(codes[i:i + CHUNK]))
                    for i in range(0, len(codes), CHUNK))
        session.expunge_all()
    return UploadCheck(preview, seen, len(set(codes)) - known, known)


def apply_upload(sessions: sessionmaker[Session], officer: Officer, data: bytes, filename: str, *, today: date,
                 accept_partial: bool, max_rows: int = DEFAULT_MAX_ROWS,
                 checked: Preview | None = None) -> tuple[Preview, ImportOutcome]:
    """Import the file (ListFileError, ImportRefused or ForbiddenError: nothing is written). `checked`: the
    preview this process just made of the same bytes (the CLI), so that the file is not read twice."""
    authorize(officer, officer.province, officer.city, officer.county)
    if checked is not None and checked.sha256 == hashlib.sha256(data).hexdigest():
        preview = checked
    else:
        preview = read_list(data, filename, Jurisdiction.of(officer), today=today, max_rows=max_rows)
    with sessions.begin() as session:
        repos = Repositories(session)
        current = repos.officers.get_by_id(officer.id)
        assert current is not None
        outcome = import_rows(repos, current, preview, accept_partial=accept_partial, today=today)
        if outcome.file_seen_before and visible_import(officer, repos.imports.get_by_id(outcome.import_id or 0)) \
                is None:
            outcome.import_id = None  # another office's list: not named
    return preview, outcome
