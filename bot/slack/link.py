"""Whether the Slack Web API answers, checked at start-up and tried again while it does not.

A token Slack refuses stops start-up (it will not fix itself). Slack unreachable or failing
(a connection error, a 5xx, `service_unavailable`) does not: the server starts, serves the
HTTP API and resolves tags, reports Slack as degraded in /readyz and in the
`playbook_slack_up` metric, and keeps calling auth.test, backing off up to a minute, until
Slack answers. Meanwhile the outbox keeps Slack's deliveries and retries them.

auth.test also says whose token this is (`workspace`): the one workspace, or on Enterprise
Grid with an org-wide install the one org, whose requests the app accepts
(bot.slack.workspace_rule).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from core.errors import ConfigError

log = logging.getLogger("playbook.slack")
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 60.0
OUTAGE_ERRORS = {"fatal_error", "internal_error", "service_unavailable", "request_timeout"}


@dataclass(frozen=True)
class Workspace:
    """Whose token the bot holds, as auth.test answered: a workspace (`team_id`, and on
    Enterprise Grid its org), or with an org-wide install the org itself (`org_wide`)."""

    team_id: str | None
    enterprise_id: str | None = None
    org_wide: bool = False
    name: str = ""
    bot_user_id: str | None = None
    bot_id: str | None = None
    scopes: str | None = None  # the token's scopes (x-oauth-scopes), as Bolt keeps them

    @classmethod
    def from_auth_test(cls, answer: SlackResponse) -> Workspace:
        return cls(team_id=answer.get("team_id") or None,
                   enterprise_id=answer.get("enterprise_id") or None,
                   org_wide=bool(answer.get("is_enterprise_install")),
                   name=str(answer.get("team") or ""), bot_user_id=answer.get("user_id"),
                   bot_id=answer.get("bot_id"),
                   scopes=answer.headers.get("x-oauth-scopes"))

    def __str__(self) -> str:
        if self.org_wide:
            return f"org {self.enterprise_id} (org-wide install)"
        org = f" of org {self.enterprise_id}" if self.enterprise_id else ""
        return f"team {self.team_id}{org}"


def outage(exc: Exception) -> bool:
    """An error that says Slack (or the way to it) is down, not that the token is wrong."""
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500 or exc.response.get("error") in OUTAGE_ERRORS
    return isinstance(exc, URLError | OSError)


class SlackLink:
    """`up` once auth.test has answered; `report(status)` is told each change."""

    def __init__(self, client: WebClient, api_url: str,
                 report: Callable[[str], None] = lambda status: None) -> None:
        self._client = client
        self._api_url = api_url
        self._report = report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.up = False
        self.problem = ""
        self.workspace: Workspace | None = None  # known once auth.test has answered
        self._when_up: Callable[[], None] | None = None  # run once Slack answers after all
        self._lock = threading.Lock()

    def check_at_start(self) -> None:
        """auth.test once: a refused token raises ConfigError; an outage starts the retries."""
        try:
            answer = self._client.auth_test()
        except Exception as exc:
            if not outage(exc):
                if isinstance(exc, SlackApiError):
                    raise ConfigError(
                        f"Slack refused SLACK_BOT_TOKEN: {exc.response.get('error')}",
                        hint="copy the Bot User OAuth Token (xoxb-...) again; reinstall the "
                             "app if it was revoked") from exc
                raise
            self._down(exc)
            self._thread = threading.Thread(target=self._retry, name="slack-link", daemon=True)
            self._thread.start()
            return
        self._set_up(Workspace.from_auth_test(answer))

    def _down(self, exc: Exception) -> None:
        self.problem = (f"Slack answered {exc.response.status_code} "
                        f"{exc.response.get('error')}" if isinstance(exc, SlackApiError)
                        else f"cannot reach {self._api_url}: {getattr(exc, 'reason', exc)}")
        self._report(f"degraded: {self.problem}")
        log.warning("Slack is degraded (%s); serving the HTTP API, Slack's posts wait in the "
                    "outbox, trying again", self.problem)

    def call_when_up(self, fn: Callable[[], None]) -> None:
        """Run `fn` now if Slack answers, else once it does (socket mode connects so)."""
        with self._lock:
            if not self.up:
                self._when_up = fn
                return
        fn()

    def _set_up(self, workspace: Workspace) -> None:
        with self._lock:
            was_down = bool(self.problem)
            self.workspace = workspace  # before `up`: whoever sees up sees the workspace
            self.up, self.problem = True, ""
            then, self._when_up = self._when_up, None
        self._report("ok")
        log.info("Slack answered auth.test: this Playbook serves %s%s", workspace,
                 f" ({workspace.name})" if workspace.name else "")
        if was_down:
            log.warning("Slack answers again")
            if then is not None:
                try:
                    then()
                except Exception:
                    log.exception("connecting to Slack once it answered failed")
                    self._report("degraded: connecting failed once Slack answered")

    def _retry(self) -> None:
        delay = FIRST_RETRY_S
        while not self._stop.wait(delay):
            try:
                answer = self._client.auth_test()
            except SlackApiError as exc:
                if not outage(exc):
                    log.error("Slack refused SLACK_BOT_TOKEN once it answered: %s; the Slack "
                              "app cannot work until the token is fixed",
                              exc.response.get("error"))
                    self._report(f"degraded: Slack refused the token "
                                 f"({exc.response.get('error')})")
                    return
            except (URLError, OSError):
                pass
            else:
                self._set_up(Workspace.from_auth_test(answer))
                return
            delay = min(delay * 2, MAX_RETRY_S)

    def close(self) -> None:
        self._stop.set()
