"""The command line is declared apart from what runs it: `playbook --help` and bad usage load
none of the server (speed is measured by bench, never asserted here; what is asserted is what
gets imported), and every declared command names a handler that exists."""

from __future__ import annotations

import argparse
import subprocess
import sys

from bot.cli import remote
from bot.cli.parser import REMOTE, build_parser, handler_of

HEAVY = ("sqlalchemy", "fastapi", "pydantic", "pydantic_settings", "slack_bolt", "slack_sdk",
         "alembic", "httpx", "uvicorn", "apscheduler", "bot.bootstrap", "core.config")


def loaded_by(argv: list[str]) -> set[str]:
    code = ("import sys\nfrom bot.cli.main import main\ntry:\n    main(" + repr(argv) + ")\n"
            "except SystemExit:\n    pass\nprint('\\n'.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    return set(done.stdout.split())


def test_help_and_bad_usage_import_none_of_the_server() -> None:
    for argv in (["--help"], ["register", "--help"], ["token", "--help"],
                 ["slack", "manifest", "--help"], ["no-such-command"]):
        heavy = {m for m in loaded_by(argv) if m.split(".")[0] in HEAVY or m in HEAVY}
        assert heavy == set(), (argv, sorted(heavy))


def commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.append(sub)
                found += commands(sub)
    return found


def test_every_command_names_a_handler_that_exists() -> None:
    named = [p.get_default("handler") for p in commands(build_parser())]
    assert len([h for h in named if h]) >= 30
    for handler in filter(None, named):
        assert callable(handler_of(argparse.Namespace(handler=handler))), handler


def test_the_remote_commands_are_the_ones_remote_runs() -> None:
    assert set(remote.HANDLERS) == REMOTE
