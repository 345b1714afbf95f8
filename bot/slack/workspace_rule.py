"""One workspace per Playbook: the app holds one bot token and has no install flow, so it acts
only for the workspace that token belongs to, or, with an org-wide install on Enterprise Grid,
for that one org (any of its workspaces).

Slack signs every request with the app's signing secret whichever workspace it comes from: a
good signature says "Slack, for this app", not "for our workspace". An app installed in a
second workspace (distributed, or added to another workspace of a Grid org) would otherwise
have that workspace's commands run plays on this registry, for people this token cannot see
or answer. So, after the signature and before anything else (Bolt's authorization, the inbox,
any listener), each request's workspace is compared with the one auth.test named
(bot.slack.link): a workspace install accepts its own team (and its own org, where both name
one); an org-wide install accepts its own org's enterprise id, from whichever workspace.

A request from elsewhere is answered 200 with nothing done: no play, no post, no reply to its
response_url; a slash command's user sees the answer's text. One warning names the workspace
the request came from and the one expected. A 200 and not an error status, because Slack
retries events answered otherwise and in the end turns them off for the whole app.

Before auth.test has answered (Slack down at start-up) the workspace is not known and every
request is refused the same way, saying so. Accepting them instead would make the rule hold
only while Slack is up; and while Slack's Web API does not answer, a play started from Slack
could not post its record or card anyway. The refusal points to the CLI and the HTTP API,
which serve meanwhile, and the link keeps trying auth.test (at least once a minute).

Bolt's own single-team authorization would call auth.test at the first request, on the thread
that acknowledges it, where a 429's Retry-After would hold the ack; `FromAuthTest` authorizes
from what the link already knows instead, so no Web API call stands before any ack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest

from bot.slack.link import SlackLink, Workspace

log = logging.getLogger("playbook.slack")
SLACK_CHECKS = {"url_verification", "ssl_check"}  # Slack checking the URL: no team, no effect
ELSEWHERE = ("This Playbook serves another Slack workspace, so nothing was done: each "
             "Playbook serves one workspace (or one Enterprise Grid org).")
NOT_YET = ("Playbook has not reached Slack since it started, so it cannot tell yet which "
           "workspace it serves, and nothing was done. Try again in a minute; in an "
           "emergency use the CLI (`playbook rollback <model>`) or the HTTP API.")


def refusal(ours: Workspace | None, team_id: str | None,
            enterprise_id: str | None) -> str | None:
    """Why a request from `team_id` (of org `enterprise_id`) is not ours; None when it is."""
    if ours is None:
        return ("Slack has not answered auth.test since start-up, so the workspace this "
                "Playbook serves is not known yet")
    if ours.org_wide:
        same = enterprise_id is not None and enterprise_id == ours.enterprise_id
    else:
        same = team_id is not None and team_id == ours.team_id and not (
            enterprise_id and ours.enterprise_id and enterprise_id != ours.enterprise_id)
    return None if same else f"this Playbook serves {ours} only"


def _what(body: dict[str, Any]) -> str:
    if body.get("command"):
        return str(body["command"])
    if body.get("type") == "event_callback":
        return f"event {(body.get('event') or {}).get('type')}"
    return str(body.get("type") or "request")


def _sender(team_id: str | None, enterprise_id: str | None) -> str:
    return f"team {team_id or '(none)'}" + (f" of org {enterprise_id}" if enterprise_id else "")


class OneWorkspace(Middleware):
    """Bolt's `before_authorize`: a request not from this workspace goes no further."""

    def __init__(self, link: SlackLink) -> None:
        self._link = link

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:
        if req.body.get("type") in SLACK_CHECKS:
            return next()
        ours = self._link.workspace
        team_id, enterprise_id = req.context.team_id, req.context.enterprise_id
        why = refusal(ours, team_id, enterprise_id)
        if why is None:
            return next()
        log.warning("refused Slack %s from %s: %s; nothing of it was run", _what(req.body),
                    _sender(team_id, enterprise_id), why)
        told = (NOT_YET if ours is None else ELSEWHERE) if req.body.get("command") else ""
        return BoltResponse(status=200, body=told)


class FromAuthTest(Authorize):
    """Bolt's `authorize`, from what auth.test answered (no Web API call on a request's
    path). Runs only after `OneWorkspace` accepted the request."""

    def __init__(self, link: SlackLink, token: str) -> None:
        self._link = link
        self._token = token

    def __call__(self, *, context: BoltContext, enterprise_id: str | None,
                 team_id: str | None, user_id: str | None,
                 actor_enterprise_id: str | None = None, actor_team_id: str | None = None,
                 actor_user_id: str | None = None) -> AuthorizeResult:
        ours = self._link.workspace
        assert ours is not None, "OneWorkspace refuses every request until auth.test answered"
        return AuthorizeResult(
            enterprise_id=ours.enterprise_id,
            team_id=team_id if ours.org_wide else ours.team_id, team=ours.name or None,
            bot_user_id=ours.bot_user_id, bot_id=ours.bot_id, bot_token=self._token,
            bot_scopes=ours.scopes, user_id=user_id)
