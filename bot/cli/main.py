"""`playbook`: the command-line entry point. Parses, runs one command, prints, exits.

Exit status: 0 done, 1 refused or failed (one line on stderr says why), 2 bad usage.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from bot.cli.parser import REMOTE, build_parser, handler_of, needs_app
from bot.shared.render import Out, dumps
from core.errors import ConfigError, PlaybookError

__all__ = ["build_parser", "main"]


def starter(name: str = "starter.toml") -> str:
    return resources.files("bot.cli").joinpath(name).read_text(encoding="utf-8")


def init(path: Path, print_only: bool) -> Out:
    """playbook.toml, and beside it the starter eval suite it names (kept if already there)."""
    text = starter()
    if print_only:
        return Out({"config": text}, text.rstrip())
    if path.exists():
        raise ConfigError(f"{path} already exists; nothing written",
                          hint="edit it, or see `playbook init --print` for every key")
    path.parent.mkdir(parents=True, exist_ok=True)
    evals = path.parent / "eval_suite.py"
    written = [str(path)]
    if not evals.exists():
        evals.write_text(starter("starter_eval.py"), encoding="utf-8")
        written.append(str(evals))
    path.write_text(text, encoding="utf-8")
    return Out({"written": written}, f"wrote {' and '.join(written)}; declare your models in "
                                     f"{path.name}, and put your eval suite in eval_suite.py")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from bot import bootstrap  # the command runs: only now the rest of Playbook loads
        from bot.cli import remote
        from bot.settings import load_settings

        settings = load_settings(config=args.config, home=args.home, database=args.database,
                                 actor=args.actor, migrate=args.migrate)
        server = remote.server_of(args, settings.env)
        if server and needs_app(args) and args.command not in REMOTE:
            parser.error(f"{args.command} runs where the database is, not with --server; "
                         f"over HTTP: {', '.join(sorted(REMOTE))}")
        handler = handler_of(args)
        if handler is None:
            out = init(settings.config_path, args.print)
        elif not needs_app(args):
            out = handler(args, settings)
        elif server:
            out = remote.run(args, server, settings.env)
        else:
            app = bootstrap.build(settings, schema=getattr(args, "schema", None))
            try:
                out = handler(args, app)
            finally:
                app.close()
    except PlaybookError as exc:
        if args.json:
            print(dumps({"error": {"code": exc.code, "message": exc.message,
                                   "hint": exc.hint, "step": exc.step}}))
        print(f"playbook: {exc}", file=sys.stderr)  # the step: --json, `playbook runs ID`
        return 1
    except KeyboardInterrupt:  # Ctrl-C: no traceback; `serve` has shut down gracefully
        print("playbook: stopped", file=sys.stderr)
        return 0 if args.command == "serve" else 130
    print(dumps(out.data) if args.json else out.text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
