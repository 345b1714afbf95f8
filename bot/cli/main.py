"""`playbook`: the command-line entry point. Parses, runs one command, prints, exits.

Exit status: 0 done, 1 refused or failed (one line on stderr says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from bot import bootstrap
from bot.cli import (
    audit,
    canary,
    db,
    incident,
    outbox,
    promotion,
    registry,
    remote,
    schedule,
    serve,
    tokens,
)
from bot.settings import load_settings
from bot.shared.render import Out, dumps
from core.errors import ConfigError, PlaybookError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playbook", description="Run the seven plays of AI model version control.")
    parser.add_argument("--config", metavar="PATH",
                        help="playbook.toml (default: $PLAYBOOK_CONFIG or ./playbook.toml)")
    parser.add_argument("--database", metavar="URL",
                        help="SQLAlchemy URL (default: $DATABASE_URL or SQLite in --home)")
    parser.add_argument("--home", metavar="DIR",
                        help="local state: SQLite file and artifacts (default: ./.playbook)")
    parser.add_argument("--as", dest="actor", metavar="USER",
                        help="who is acting (default: $PLAYBOOK_USER or the login name)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--server", metavar="URL",
                        help="run the command on this Playbook server over HTTP "
                             "(default: $PLAYBOOK_SERVER; unset: work on the database here)")
    parser.add_argument("--token", metavar="T", help="API token for --server "
                                                     "(default: $PLAYBOOK_TOKEN)")
    parser.add_argument("--migrate", action="store_true",
                        help="bring the database schema to this Playbook's first (default: "
                             "$PLAYBOOK_MIGRATE; the embedded SQLite default always is); "
                             "otherwise a database named by --database or DATABASE_URL is "
                             "only checked")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="write a commented starter playbook.toml")
    p.add_argument("--print", action="store_true", help="print it instead of writing")
    p.set_defaults(handler=None)

    registry.add_parsers(sub)
    promotion.add_parsers(sub)
    incident.add_parsers(sub)
    audit.add_parsers(sub)
    serve.add_parsers(sub)
    tokens.add_parsers(sub)
    canary.add_parsers(sub)
    schedule.add_parsers(sub)
    outbox.add_parsers(sub)
    db.add_parsers(sub)
    return parser


def starter() -> str:
    return resources.files("bot.cli").joinpath("starter.toml").read_text(encoding="utf-8")


def init(path: Path, print_only: bool) -> Out:
    text = starter()
    if print_only:
        return Out({"config": text}, text.rstrip())
    if path.exists():
        raise ConfigError(f"{path} already exists; nothing written",
                          hint="edit it, or see `playbook init --print` for every key")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Out({"written": str(path)}, f"wrote {path}; declare your models in it")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(config=args.config, home=args.home, database=args.database,
                                 actor=args.actor, migrate=args.migrate)
        server = remote.server_of(args, settings.env)
        if server and args.handler is not None and args.command not in remote.HANDLERS:
            parser.error(f"{args.command} runs where the database is, not with --server; "
                         f"over HTTP: {', '.join(sorted(remote.HANDLERS))}")
        if args.handler is None:
            out = init(settings.config_path, args.print)
        elif server:
            out = remote.run(args, server, settings.env)
        else:
            app = bootstrap.build(settings, schema=getattr(args, "schema", None))
            try:
                out = args.handler(args, app)
            finally:
                app.close()
    except PlaybookError as exc:
        if args.json:
            print(dumps({"error": {"code": exc.code, "message": exc.message,
                                   "hint": exc.hint, "step": exc.step}}))
        print(f"playbook: {exc.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: no traceback; `serve` has shut down gracefully
        print("playbook: stopped", file=sys.stderr)
        return 0 if args.command == "serve" else 130
    print(dumps(out.data) if args.json else out.text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
