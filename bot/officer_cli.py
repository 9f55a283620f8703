"""`qingshen officer ...`: officer accounts, list imports, broadcasts, reports, templates and sheets.

Wiring (bot/cli.py): `officer_cli.register(sub)` in `build_parser`, and in `main`:
`if args.command == "officer": return officer_cli.run(args)`.

Every command that acts for an officer takes the officer's id first and goes through
`handlers.officers.authorize`. Exit status: 0 done; 1 an error; 2 bad input (a refused file, row
errors without --accept-partial); 3 forbidden (outside the officer's jurisdiction).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from rules.errors import QingshenError
from rules.i18n import DEFAULT_LOCALE, gettext_for
from storage import OFFICER_ROLES, Officer, Repositories

EXIT_BAD_INPUT = 2
EXIT_FORBIDDEN = 3
STATUSES = ("overdue", "due_soon", "open", "done")
GROUNDS = ("pollution", "energy", "toxic", "key_industry", "master_list")


def _(msgid: str) -> str:
    return gettext_for(DEFAULT_LOCALE)(msgid)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `officer` and its subcommands to the `qingshen` parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "officer", help="officer accounts, list imports and broadcasts")
    sub = parser.add_subparsers(dest="officer_command", required=True)
    p = sub.add_parser("add", help="add an officer; prints the id and a one-time invitation code for chat")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=OFFICER_ROLES)
    p.add_argument("--province", required=True, help="pinyin (shanxi), code (14) or name (山西)")
    p.add_argument("--city")
    p.add_argument("--county")
    p.add_argument("--password-stdin", action="store_true", help="read a dashboard password from standard input")
    p = sub.add_parser("invite", help="a new one-time invitation code for an officer")
    p.add_argument("officer", type=int)
    p = sub.add_parser("list", help="list the officers")
    p.add_argument("--province")
    p = sub.add_parser("import", help="import a published list (CSV or XLSX) for an officer")
    p.add_argument("officer", type=int)
    p.add_argument("file")
    p.add_argument("--accept-partial", action="store_true", help="import the valid rows of a file with row errors")
    p.add_argument("--dry-run", action="store_true", help="print the preview only")
    p.add_argument("--max-rows", type=int, default=None, help="refuse files with more rows (default 50000)")
    p.add_argument("--json", action="store_true", help="print the preview as JSON")
    p = sub.add_parser("broadcast", help="send a list notice (--import) or a general message (--general)")
    p.add_argument("officer", type=int)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--import", dest="import_id", type=int, help="the list import to send the notice of")
    which.add_argument("--general", action="store_true", help="a general message (--text) to the jurisdiction")
    p.add_argument("--text", help="the text of a general message")
    p.add_argument("--industry", help="only enterprises whose GB/T 4754 code starts with this")
    p.add_argument("--ground", choices=GROUNDS, help="only enterprises on this ground")
    p.add_argument("--status", choices=STATUSES, help="only enterprises with a milestone in this state")
    p.add_argument("--within-days", type=int, default=30, help="for --status due_soon (default 30)")
    p.add_argument("--batch", type=int, default=1000, help="enterprises per committed batch")
    p = sub.add_parser("resume", help="resume a broadcast's fan-out after a crash (no duplicates)")
    p.add_argument("officer", type=int)
    p.add_argument("broadcast", type=int)
    p = sub.add_parser("report", help="the delivery report of a broadcast")
    p.add_argument("officer", type=int)
    p.add_argument("broadcast", type=int)
    p.add_argument("--watch", type=float, default=None, metavar="SECONDS", help="repeat until nothing is pending")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("template", help="write the list template (.xlsx or .csv)")
    p.add_argument("file")
    p = sub.add_parser("sheet", help="write the printable invitation-code sheet of a list import (.xlsx)")
    p.add_argument("officer", type=int)
    p.add_argument("import_id", type=int)
    p.add_argument("file")
    _register_henan(sub)
    return parser


# -- Henan voluntary applications (handlers/henan_form.py) ----------------------------------------


def _register_henan(sub: Any) -> None:
    p = sub.add_parser("applicants", help="Henan enterprises that filled the voluntary-audit application form")
    p.add_argument("officer", type=int)
    p.add_argument("--xlsx", metavar="FILE", help="also write them, with every field of the form, to FILE")


def china_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def open_sessions() -> sessionmaker[Session]:
    from bot.cli import check_migrated
    from bot.config import Settings
    from storage import make_engine, session_factory

    settings = Settings.from_env()
    check_migrated(settings.database_url)
    return session_factory(make_engine(settings.database_url))


def run(
    args: argparse.Namespace,
    *,
    sessions: sessionmaker[Session] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    stdin: IO[str] | None = None,
    today: date | None = None,
) -> int:
    """Run one `officer` subcommand; errors are printed, and the exit status returned."""
    from handlers.cycles import ImportRefused
    from handlers.listimport import ListFileError
    from handlers.officers import ForbiddenError

    cmd = _Command(args, sessions, out or sys.stdout, err or sys.stderr, stdin or sys.stdin, today or china_today())
    try:
        return cmd.dispatch()
    except ForbiddenError as e:
        print(f"qingshen: {e}", file=cmd.err)
        return EXIT_FORBIDDEN
    except (ListFileError, ImportRefused) as e:
        print(f"qingshen: {e}", file=cmd.err)
        return EXIT_BAD_INPUT
    except QingshenError as e:
        print(f"qingshen: {e}", file=cmd.err)
        return 1


def main(argv: Sequence[str], **kwargs: Any) -> int:
    """`officer ...` without the rest of the `qingshen` parser (for tests and scripts)."""
    parser = argparse.ArgumentParser(prog="qingshen")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["officer", *argv]), **kwargs)


class _Command:
    def __init__(self, args: argparse.Namespace, sessions: sessionmaker[Session] | None, out: IO[str],
                 err: IO[str], stdin: IO[str], today: date) -> None:
        self.args, self._sessions, self.out, self.err, self.stdin, self.today = args, sessions, out, err, stdin, today

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = open_sessions()
        return self._sessions

    def dispatch(self) -> int:
        handler = getattr(self, "cmd_" + self.args.officer_command)
        result: int = handler()
        return result

    def officer(self, repos: Repositories) -> Officer:
        officer = repos.officers.get_by_id(self.args.officer)
        if officer is None:
            raise QingshenError(_("There is no officer {id}.").format(id=self.args.officer))
        return officer

    # -- accounts ---------------------------------------------------------------------------------

    def cmd_add(self) -> int:
        from handlers.officers import Jurisdiction, create_officer

        a = self.args
        password = self.stdin.readline().rstrip("\r\n") if a.password_stdin else None
        with self.sessions.begin() as session:
            officer, invitation = create_officer(Repositories(session), name=a.name, role=a.role,
                                                 province=a.province, city=a.city, county=a.county, password=password)
            print(_("Officer {id}: {name}, {where}. Invitation code (valid until {until}): {code}").format(
                id=officer.id, name=officer.name, where=Jurisdiction.of(officer).describe(),
                until=invitation.expires_at.date().isoformat(), code=invitation.code), file=self.out)
            link = _("To link a chat account, send in the chat: 绑定 {code}").format(code=invitation.code)
            print(link, file=self.out)
        return 0

    def cmd_invite(self) -> int:
        with self.sessions.begin() as session:
            repos = Repositories(session)
            invitation = repos.invitations.add_officer_invitation(self.officer(repos).id)
            print(_("Invitation code (valid until {until}): {code}").format(
                until=invitation.expires_at.date().isoformat(), code=invitation.code), file=self.out)
        return 0

    def cmd_list(self) -> int:
        from handlers.officers import Jurisdiction
        from rules.provinces import normalize_province

        province = normalize_province(self.args.province) if self.args.province else None
        with self.sessions() as session:
            for o in Repositories(session).officers.list_all(province=province):
                linked = _("linked") if o.contact_id is not None else _("not linked")
                print(f"{o.id}\t{o.name}\t{o.role}\t{Jurisdiction.of(o).describe()}\t{linked}", file=self.out)
        return 0

    # -- imports ----------------------------------------------------------------------------------

    def cmd_import(self) -> int:
        """The same checks and the same import as the dashboard's upload (handlers.listupload)."""
        from handlers.listimport import DEFAULT_MAX_ROWS, MAX_FILE_BYTES
        from handlers.listupload import apply_upload, check_upload

        a = self.args
        path = Path(a.file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                print(_("qingshen: the file is larger than {limit} MB.").format(limit=MAX_FILE_BYTES // 2**20),
                      file=self.err)
                return EXIT_BAD_INPUT
            data = path.read_bytes()
        except OSError as e:
            raise QingshenError(_("Cannot read {file}: {reason}").format(file=a.file, reason=e.strerror)) from None
        with self.sessions() as session:
            officer = self.officer(Repositories(session))
            session.expunge(officer)
        max_rows = a.max_rows or DEFAULT_MAX_ROWS
        check = check_upload(self.sessions, officer, data, path.name, today=self.today, max_rows=max_rows)
        preview = check.preview
        tr = gettext_for(DEFAULT_LOCALE)
        if a.json:
            json.dump(preview.to_dict(), self.out, ensure_ascii=False, indent=2)
            self.out.write("\n")
        else:
            print(preview.render(tr), file=self.out)
        if check.seen is not None:
            print(_("This file was already imported as list {id}; importing it again changes nothing.").format(
                id=check.seen.id), file=self.out)
        if preview.errors and not a.accept_partial:
            print(_("Nothing imported: correct the rows above, or run again with --accept-partial to import the "
                    "valid rows only."), file=self.err)
            return EXIT_BAD_INPUT
        if a.dry_run:
            return 0
        outcome = apply_upload(self.sessions, officer, data, path.name, today=self.today,
                               accept_partial=a.accept_partial, max_rows=max_rows, checked=preview)[1]
        if outcome.import_id is None or outcome.file_seen_before:
            print(_("Nothing new: every row was already imported."), file=self.out)
        else:
            print(_("Imported list {id}: {added} enterprises ({new} new), {same} rows already imported; {cycles} "
                    "audit cycles, {milestones} deadlines and {reminders} reminders planned.").format(
                id=outcome.import_id, added=outcome.added, new=outcome.enterprises_created,
                same=len(outcome.unchanged), cycles=outcome.cycles_created, milestones=outcome.milestones_created,
                reminders=outcome.reminders_created), file=self.out)
        return 0

    def cmd_template(self) -> int:
        from handlers.listimport import template_csv, template_xlsx

        path = Path(self.args.file)
        data = template_csv() if path.suffix.lower() == ".csv" else template_xlsx()
        path.write_bytes(data)
        print(_("Wrote the list template to {file}.").format(file=path), file=self.out)
        return 0

    def cmd_sheet(self) -> int:
        from bot.config import Settings
        from handlers.invitations import Place, invitation_sheet_xlsx

        settings = Settings.from_env()
        place = Place(settings.public_name, settings.chat_page_url)
        with self.sessions.begin() as session:
            repos = Repositories(session)
            data = invitation_sheet_xlsx(repos, self.officer(repos), self.args.import_id, place=place)
        Path(self.args.file).write_bytes(data)
        print(_("Wrote the invitation-code sheet to {file}.").format(file=self.args.file), file=self.out)
        if place.name is None and place.web_url is None:
            print(_("Note: the sheet does not say where to send the codes; set QINGSHEN_PUBLIC_NAME (the WeChat or "
                    "WeCom account) and QINGSHEN_WEB_URL (the web chat page) to print them, with QR codes."),
                  file=self.err)
        return 0

    # -- broadcasts -------------------------------------------------------------------------------

    def cmd_broadcast(self) -> int:
        from handlers.broadcast import Filters, plan_general, plan_notice

        a = self.args
        with self.sessions.begin() as session:
            repos = Repositories(session)
            officer = self.officer(repos)
            if a.general:
                if not a.text:
                    raise QingshenError(_("A general broadcast needs --text."))
                filters = Filters(industry_prefix=a.industry, ground=a.ground, status=a.status,
                                  within_days=a.within_days)
                broadcast = plan_general(repos, officer, a.text, filters)
            else:
                broadcast = plan_notice(repos, officer, a.import_id)
            broadcast_id = broadcast.id
        print(_("Broadcast {id} planned.").format(id=broadcast_id), file=self.out)
        return self._fan_out(broadcast_id, a.batch)

    def cmd_resume(self) -> int:
        return self._fan_out(self.args.broadcast, 1000)

    def _fan_out(self, broadcast_id: int, batch: int) -> int:
        from handlers.broadcast import Progress, delivery_report, fan_out, render_report

        with self.sessions() as session:
            officer = self.officer(Repositories(session))

        def progress(p: Progress) -> None:
            print(_("Broadcast {id}: {enterprises} enterprises, {queued} messages queued, {unreachable} "
                    "unreachable.").format(id=p.broadcast_id, enterprises=p.enterprises, queued=p.queued,
                                           unreachable=p.unreachable), file=self.err, flush=True)

        fan_out(self.sessions, officer, broadcast_id, today=self.today, batch_size=batch, on_progress=progress)
        with self.sessions() as session:
            report = delivery_report(Repositories(session), officer, broadcast_id)
        print(render_report(report, gettext_for(DEFAULT_LOCALE)), file=self.out)
        return 0

    def cmd_report(self) -> int:
        from handlers.broadcast import delivery_report, render_report

        while True:
            with self.sessions() as session:
                repos = Repositories(session)
                report = delivery_report(repos, self.officer(repos), self.args.broadcast)
            if self.args.json:
                print(json.dumps(report.to_dict(), ensure_ascii=False), file=self.out, flush=True)
            else:
                print(render_report(report, gettext_for(DEFAULT_LOCALE)), file=self.out, flush=True)
            if self.args.watch is None or (report.pending == 0 and report.status == "done"):
                return 0
            time.sleep(max(0.5, self.args.watch))

    # -- Henan voluntary applications (handlers/henan_form.py) ------------------------------------

    def cmd_applicants(self) -> int:
        from handlers.henan_form import applicants_xlsx, list_applicants

        with self.sessions() as session:
            repos = Repositories(session)
            applicants = list_applicants(repos, self.officer(repos))
        for a in applicants:
            f = a.answers
            place = "".join(p for p in (a.city, a.county) if p) or "-"
            print("\t".join(str(v) for v in (a.enterprise_id, f.get("name", ""), f.get("credit_code", ""),
                                               f.get("industry_code", ""), place, f.get("contact_name", ""),
                                               f.get("mobile", ""), a.submitted_on)), file=self.out)
        if not applicants:
            print(_("No applicants."), file=self.out)
        if self.args.xlsx:
            Path(self.args.xlsx).write_bytes(applicants_xlsx(applicants))
            print(_("Wrote the applicants to {file}.").format(file=self.args.xlsx), file=self.out)
        return 0


__all__ = ["EXIT_BAD_INPUT", "EXIT_FORBIDDEN", "main", "register", "run"]
