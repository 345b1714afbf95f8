"""`playbook token create|list|revoke`: the HTTP API's bearer tokens, managed where the
database is (there is no HTTP route to mint tokens, so a leaked token cannot make more).

A token expires (90 days unless told otherwise), may be limited to some models, and records
its plays and approvals under `--user` (default: its name); `list` shows when each was last
used."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from bot.bootstrap import App
from bot.shared.render import Out, table, when
from bot.shared.tokens import create_token, expiry
from core.access import ApiToken
from core.errors import InvalidInput


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _json(token: ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "user": token.actor,
            "scopes": list(token.scopes),
            "models": list(token.models) if token.models is not None else None,
            "created_at": token.created_at.isoformat(), "created_by": token.created_by,
            "expires_at": _iso(token.expires_at), "last_used_at": _iso(token.last_used_at),
            "revoked_at": _iso(token.revoked_at)}


def _state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at:
        return f"revoked {when(token.revoked_at)}"
    if token.expired(now):
        return f"expired {when(token.expires_at)}"
    return f"until {when(token.expires_at)}" if token.expires_at else "no expiry"


def cmd_token(args: argparse.Namespace, app: App) -> Out:
    uow = app.ctx.uow
    now = app.ctx.clock.now()
    if args.action == "create":
        token, secret = create_token(
            uow, name=args.name or "", scopes=args.scope or [], created_by=app.settings.actor,
            now=now, make_id=app.ctx.make_id, user=args.user,
            expires_at=expiry(args.expires, now), models=args.model,
            known_models=app.config.models)
        covers = ", ".join(token.models) if token.models is not None else "every model"
        return Out(_json(token) | {"token": secret},
                   f"token {token.id} for {token.name!r} ({', '.join(token.scopes)}; "
                   f"{covers}; acting as {token.actor}; {_state(token, now)}); shown once, "
                   f"store it now:\n{secret}")
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
    with uow(read_only=True) as u:
        tokens = u.tokens.list(include_revoked=args.all)
    rows = [[t.id, t.name, t.actor, ",".join(t.scopes),
             ",".join(t.models) if t.models is not None else "all", when(t.created_at),
             t.created_by, _state(t, now), when(t.last_used_at) if t.last_used_at else "never"]
            for t in tokens]
    return Out([_json(t) for t in tokens],
               table(["token", "name", "acts as", "scopes", "models", "created", "by", "state",
                      "last used"], rows))
