"""`playbook db current | check | upgrade`: the schema, looked at and migrated on purpose.

These commands open the database without looking at its schema first, so they show what is
really there; `db upgrade` is the migration job of deploy/README.md. Every other command
refuses a schema that is not this Playbook's unless told to migrate (--migrate,
PLAYBOOK_MIGRATE=1), except on the embedded SQLite default, which is migrated on the way in.
"""

from __future__ import annotations

import argparse

from bot.bootstrap import App
from bot.shared.render import Out


def cmd_current(args: argparse.Namespace, app: App) -> Out:
    current, head = app.schema()
    state = "current" if current == head else "not current"
    return Out({"current": current, "head": head, "at_head": current == head},
               f"schema at {current or 'nothing (never migrated)'}; this Playbook needs "
               f"{head} ({state})")


def cmd_check(args: argparse.Namespace, app: App) -> Out:
    app.check_schema()
    current, head = app.schema()
    return Out({"current": current, "head": head, "at_head": True},
               f"schema at {head}: current")


def cmd_upgrade(args: argparse.Namespace, app: App) -> Out:
    before, head = app.schema()
    app.migrate()  # a newer schema than this Playbook's is refused, naming it
    after, _ = app.schema()
    text = f"schema already at {head}" if before == after \
        else f"schema upgraded from {before or 'nothing'} to {after}"
    return Out({"from": before, "to": after, "head": head}, text)
