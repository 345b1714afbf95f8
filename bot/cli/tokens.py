"""`playbook token create|list|revoke`: the HTTP API's bearer tokens, managed where the
database is (there is no HTTP route to mint tokens, so a leaked token cannot make more)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.shared.render import Out, table, when
from bot.shared.tokens import SCOPE_HELP, SCOPES, create_token
from core.access import ApiToken
from core.errors import InvalidInput


def _json(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "scopes": list(token.scopes),
            "created_at": token.created_at.isoformat(), "created_by": token.created_by,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


def cmd_token(args: argparse.Namespace, app: App) -> Out:
    uow = app.ctx.uow
    now = app.ctx.clock.now()
    if args.action == "create":
        token, secret = create_token(uow, name=args.name or "", scopes=args.scope or [],
                                     created_by=app.settings.actor, now=now,
                                     make_id=app.ctx.make_id)
        return Out(_json(token) | {"token": secret},
                   f"token {token.id} for {token.name!r} ({', '.join(token.scopes)}); "
                   f"shown once, store it now:\n{secret}")
    if args.action == "revoke":
        if not args.token:
            raise InvalidInput("token", "name the token to revoke: its id or its name",
                               hint="see `playbook token list`")
        with uow() as u:
            revoked = u.tokens.revoke(args.token, now)
            u.commit()
        return Out([_json(t) for t in revoked],
                   "revoked " + ", ".join(f"{t.id} ({t.name})" for t in revoked)
                   + "; servers stop accepting it within their token cache time (5 s)")
    with uow() as u:
        tokens = u.tokens.list(include_revoked=args.all)
    rows = [[t.id, t.name, ",".join(t.scopes), when(t.created_at), t.created_by,
             when(t.revoked_at) if t.revoked_at else ""] for t in tokens]
    return Out([_json(t) for t in tokens],
               table(["token", "name", "scopes", "created", "by", "revoked"], rows))


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("token", help="HTTP API tokens: create (shown once), list, revoke",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="scopes:\n" + "\n".join(f"  {s:<10} {h}"
                                                      for s, h in SCOPE_HELP.items()))
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("token", nargs="?", metavar="ID_OR_NAME", help="revoke: which token(s)")
    p.add_argument("--name", help="create: who calls with it (the actor of its plays)")
    p.add_argument("--scope", action="append", choices=SCOPES, help="create: repeatable")
    p.add_argument("--all", action="store_true", help="list: revoked ones too")
    p.set_defaults(handler=cmd_token)
