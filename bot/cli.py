"""The `qingshen` command: assess, run, chat, migrate.

`qingshen assess` starts fast: this module imports neither storage (SQLAlchemy), the settings (bot.config) nor
the officer CLI; the commands that need them import them when they run (a test checks `sys.modules` after an
assess).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson

from rules import QingshenError, assess
from rules.errors import FactError
from rules.i18n import DEFAULT_LOCALE, gettext_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Settings
    from handlers.dispatcher import Dispatcher

TZ = ZoneInfo("Asia/Shanghai")
EXIT_BAD_INPUT = 2
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def today() -> date:
    return datetime.now(TZ).date()


def _error(kind: str, field: str | None, message: str, index: int | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"error": kind, "field": field, "message": message}
    if index is not None:
        err["index"] = index
    return {"error": err}


def _read(source: str) -> bytes | str:
    """The raw input: bytes from a file or a byte stream, so that its encoding is checked here."""
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)
        return stream.read() if stream is not None else sys.stdin.read()
    with open(source, "rb") as f:
        return f.read()


class InputError(QingshenError):
    """Bad input to the assess contract; `to_dict()` is the JSON error object the CLI prints."""

    def __init__(self, kind: str, field: str | None, message: str, index: int | None = None) -> None:
        super().__init__(f"{field or 'input'}: {message}")
        self.kind, self.field, self.message, self.index = kind, field, message, index

    def to_dict(self) -> dict[str, Any]:
        return _error(self.kind, self.field, self.message, self.index)


NOT_UTF8 = "the input is not UTF-8 JSON"


def decode_input(data: bytes | str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); InputError("invalid_encoding") otherwise."""
    if isinstance(data, str):
        return data
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            "invalid_encoding", None, f"{NOT_UTF8}: byte 0x{data[e.start]:02x} at offset {e.start} is not UTF-8"
        ) from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


_WIDE = float(2**63)


def _wide_float(value: Any) -> bool:
    """A float of magnitude 2**63 or more inside `value`: maybe orjson's reading of an integer beyond 64 bits
    (json.loads reads an int)."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict or t is list:
            for x in (v.values() if t is dict else v):
                tx = type(x)
                if tx is float:
                    if not -_WIDE < x < _WIDE:
                        return True
                elif tx is dict or tx is list:
                    stack.append(x)
        elif t is float and not -_WIDE < v < _WIDE:
            return True
    return False


def load_json(text: str | bytes) -> Any:
    """Strict JSON (no NaN/Infinity); InputError("invalid_json") for anything else.

    Read by orjson (twice as fast as the standard library) when it gives what `json.loads` gives: anything
    it refuses (invalid JSON, NaN, a lone surrogate, too deep) and anything holding a float of 2**63 or more
    go through the standard library, which words the error or reads it as before (a test compares both)."""
    if isinstance(text, str):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if not _wide_float(value):
                return value
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise InputError("invalid_json", None, "not JSON: nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, integers too long to read
        raise InputError("invalid_json", None, f"not JSON: {e}") from None


def parse_as_of(text: str | None, name: str = "--as-of") -> date:
    try:
        return date.fromisoformat(text) if text else today()
    except ValueError:
        raise InputError("invalid_argument", "as_of", f"{name} {text!r} is not a YYYY-MM-DD date") from None


def assess_payload(payload: Any, as_of: date, locale: str = DEFAULT_LOCALE, *, shared: bool = False) -> Any:
    """The assess contract: an object -> one assessment; an array -> an array. Raises InputError.
    `shared`: the result is encoded at once and not kept (`Assessment.to_dict(shared=True)`)."""
    items = payload if isinstance(payload, list) else [payload]
    results = []
    for i, raw in enumerate(items):
        try:
            results.append(assess(raw, as_of).to_dict(locale, shared=shared))
        except FactError as e:
            index = i if isinstance(payload, list) else None
            raise InputError("invalid_fact", e.field, e.message, index) from None
    return results if isinstance(payload, list) else results[0]


def run_assess(source: str, as_of_text: str | None, out: IO[str]) -> int:
    """`qingshen assess`: one JSON object -> one assessment; an array -> an array."""
    try:
        as_of = parse_as_of(as_of_text)
        try:
            data = _read(source)
        except OSError as e:
            raise InputError("unreadable_input", None, f"cannot read {source}: {e}") from None
        encoded = assess_json(data, as_of)
    except InputError as e:
        return _fail(out, e.to_dict())
    out.write(encoded.decode("utf-8"))
    out.write("\n")
    return 0


def assess_json(data: bytes | str, as_of: date, locale: str = DEFAULT_LOCALE) -> bytes:
    """JSON in -> the assessment(s) as indented JSON (what `qingshen assess` prints). Raises InputError."""
    return encode_json(assess_payload(load_json(decode_input(data)), as_of, locale, shared=True), indent=True)


def encode_json(value: Any, *, indent: bool = False) -> bytes:
    """UTF-8 JSON by orjson, the bytes `json.dumps(value, ensure_ascii=False)` wrote with `indent=2` (or,
    compact, with `separators=(",", ":")`, as Starlette's JSONResponse) for strings, integers, booleans,
    null, lists and objects with string keys. Anything orjson refuses (integers beyond 64 bits, other
    keys) goes through json."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    except TypeError:  # orjson.JSONEncodeError
        text = (json.dumps(value, ensure_ascii=False, indent=2) if indent
                else json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        return text.encode("utf-8")


def _fail(out: IO[str], err: dict[str, Any]) -> int:
    json.dump(err, out, ensure_ascii=False)
    out.write("\n")
    detail = err["error"]
    print(f"qingshen: {detail['field'] or 'input'}: {detail['message']}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _(msgid: str) -> str:
    return gettext_for(DEFAULT_LOCALE)(msgid)


class DatabaseNotReady(QingshenError):
    """The database cannot be reached, or its schema is not the newest: `qingshen migrate` first."""


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # an unparsable URL: show its scheme only, never a password
        return url.split(":", 1)[0] + ":..."


def check_migrated(url: str) -> None:
    """Raise DatabaseNotReady unless the database answers and is at the newest migration."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.migrate import current_revision, head_revision

    try:
        current = current_revision(url)
    except SQLAlchemyError as e:
        raise DatabaseNotReady(_("Cannot open the database {url}: {reason}").format(
            url=_safe_url(url), reason=type(e).__name__)) from None
    if current != head_revision():
        raise DatabaseNotReady(_(
            "The database {url} is not migrated (it is at revision {current}, the newest is {head}): "
            "run `qingshen migrate` first."
        ).format(url=_safe_url(url), current=current or "none", head=head_revision()))


def open_conversation(
    settings: Settings,
) -> tuple[Dispatcher, Callable[[], object], sessionmaker[Session]]:
    """The real dispatcher on the configured database, a trivial check for /healthz, and the sessions."""
    from sqlalchemy import text

    from handlers.dispatcher import Dispatcher
    from storage import make_engine, session_factory

    check_migrated(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)

    def db_check() -> object:
        with engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar_one()

    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    return Dispatcher(sessions, calendar_url=lambda token: f"{base}/calendar/{token}.ics"), db_check, sessions


def run_server(host: str | None, port: int | None, demo: bool | None, scheduler: bool = True,
               access_log: bool | None = None) -> int:
    """`qingshen run`: the page, the API, the channels' webhooks and the scheduler in this one process.

    Served by uvicorn on httptools and uvloop (`uvicorn[standard]`), without the access log unless asked
    (`--access-log`, QINGSHEN_ACCESS_LOG); the application's own log lines are kept either way."""
    import uvicorn

    from bot.calendar import calendar_routes
    from bot.channel_settings import ChannelSettings
    from bot.channels.registry import build_channels, channel_routes, close_channels, start_channels
    from bot.config import Settings
    from bot.dashboard import dashboard_routes
    from bot.push_settings import PushSettings
    from bot.scheduler import start_from_env, stop_scheduler
    from bot.server import create_app
    from handlers.henan_form import henan_routes

    settings = Settings.from_env()
    overrides = {k: v for k, v in (("host", host), ("port", port), ("demo", demo), ("access_log", access_log))
                 if v is not None}
    settings = Settings.model_validate({**settings.model_dump(), **overrides})
    dispatcher, db_check, sessions = open_conversation(settings)
    from bot import turns
    turns.configure(turns.threads_for(settings.database_url, settings.turn_threads))
    from handlers.extract_tables import tables
    tables()  # the extraction's word tables (and the engine's indexes) now, not on the first message
    channels = build_channels(ChannelSettings.from_env(), sessions)
    from handlers.invitations import Place
    here = f"http://[{settings.host}]:{settings.port}/" if ":" in settings.host else \
        f"http://{settings.host}:{settings.port}/"
    dashboard = dashboard_routes(
        sessions, secure_cookies=(settings.public_url or "").startswith("https://"),
        session_secret=settings.session_secret.encode() if settings.session_secret else None,
        place=Place(settings.public_name, settings.chat_page_url or here),
    )
    routes = [*channel_routes(channels, dispatcher.dispatch), *calendar_routes(sessions), *henan_routes(sessions),
              *dashboard]
    app = create_app(settings, dispatcher, db_check=db_check, routes=routes)
    if settings.demo and settings.host not in LOOPBACK:
        warning = _("Warning: demo mode on {host}: anyone who can reach it can use the API without a key.")
        print(warning.format(host=settings.host), file=sys.stderr)
    if not settings.demo and not settings.api_keys:
        print(_("Note: no API key is configured (QINGSHEN_API_KEYS), so the API refuses every request."),
              file=sys.stderr)
    jobs = None
    try:
        start_channels(channels, dispatcher.dispatch, settings.public_url)
        if scheduler:
            push_settings = PushSettings.from_env()
            push = {**push_settings.channels(), **{c.name: c for c in channels}}
            jobs = start_from_env(sessions, settings=push_settings, channels=push)
        shown = f"[{settings.host}]" if ":" in settings.host else settings.host
        print(_("qingshen is serving on {url}").format(url=f"http://{shown}:{settings.port}/"), flush=True)
        uvicorn.run(app, host=settings.host, port=settings.port, server_header=False, log_level="info",
                    access_log=settings.access_log, http="auto", loop="auto",  # httptools, uvloop when installed
                    timeout_graceful_shutdown=5)  # an open live inbox must not hold a shutdown for a minute
    finally:
        if jobs is not None:
            stop_scheduler(jobs)
        close_channels(channels)
    return 0


def run_migrate() -> int:
    """`qingshen migrate`: bring the configured database to the newest schema."""
    from bot.config import Settings
    from storage.migrate import current_revision, upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url)
    print(_("The database {url} is at revision {revision}.").format(
        url=_safe_url(settings.database_url), revision=current_revision(settings.database_url)))
    return 0


def run_chat() -> int:
    """`qingshen chat`: the conversation on this terminal, as user `console:<login name>`."""
    from bot.channels.console import ConsoleChannel, console_user_id, run_console
    from bot.config import Settings

    dispatcher, _check, _sessions = open_conversation(Settings.from_env())
    return run_console(dispatcher.dispatch, ConsoleChannel(console_user_id()))


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def build_parser(full: bool = True) -> argparse.ArgumentParser:
    """The command line; `full=False` leaves out the subcommands whose definitions need storage (officer),
    for a command line that is known to be another one (`main` does so for `assess`)."""
    parser = argparse.ArgumentParser(prog="qingshen", description="清审: cleaner-production audit assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("assess", help="assess facts given as JSON (an object or an array of objects)")
    p.add_argument("file", nargs="?", default="-", help="a JSON file, or - for standard input (default)")
    p.add_argument("--as-of", dest="as_of", help="the date to judge on, YYYY-MM-DD (default: today in China)")
    p = sub.add_parser("run", help="serve the web chat page and the HTTP API (run `qingshen migrate` first)")
    p.add_argument("--host", help="the address to listen on (default: $QINGSHEN_HOST or 127.0.0.1)")
    p.add_argument("--port", type=_port, help="the port to listen on (default: $QINGSHEN_PORT or 8080)")
    p.add_argument("--demo", action="store_true", default=None,
                   help="local demo mode: the API and the page need no key (default: $QINGSHEN_DEMO)")
    p.add_argument("--no-scheduler", dest="scheduler", action="store_false",
                   help="do not run the reminder sweep and the outbox sender in this process")
    p.add_argument("--access-log", dest="access_log", action="store_true", default=None,
                   help="log one line per HTTP request (default: $QINGSHEN_ACCESS_LOG, off)")
    sub.add_parser("migrate", help="create or upgrade the database schema ($QINGSHEN_DATABASE_URL)")
    sub.add_parser("chat", help="talk to the bot in this terminal (lines from standard input)")
    if full:
        from bot import officer_cli

        officer_cli.register(sub)
    sub.add_parser("rules", add_help=False, help="for pack authors: `rules check PACK`, `rules test CASES`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["rules"]:  # its own parser, imported only for this command (bot/rules_cli.py)
        from bot import rules_cli

        return rules_cli.main(argv[1:])
    args = build_parser(full=argv[:1] != ["assess"]).parse_args(argv)
    try:
        if args.command == "assess":
            return run_assess(args.file, args.as_of, sys.stdout)
        if args.command == "officer":
            from bot import officer_cli

            return officer_cli.run(args)
        if args.command == "run":
            return run_server(args.host, args.port, args.demo, args.scheduler, args.access_log)
        if args.command == "migrate":
            return run_migrate()
        if args.command == "chat":
            return run_chat()
    except QingshenError as e:
        print(f"qingshen: {e}", file=sys.stderr)
        return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
