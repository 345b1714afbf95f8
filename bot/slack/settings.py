"""The Slack app's secrets and endpoints, from the environment only (never from playbook.toml),
as bot.settings.Environment reads it.

A missing secret stops start-up with an error naming the variable, instead of a Bolt stack
trace or, worse, an app that answers every request with 401.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.settings import Environment, environment
from core.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"
WHERE = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions "
                       "page",
    "SLACK_SIGNING_SECRET": "the Signing Secret from the app's Basic Information page",
    "SLACK_APP_TOKEN": "an App-Level Token (xapp-...) with connections:write, from Basic "
                       "Information > App-Level Tokens",
}


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str | None  # not needed in socket mode, where Slack is not calling us
    api_url: str = DEFAULT_API_URL
    app_token: str | None = None
    workers: int = 8  # slow plays (eval runs) at once; more wait in line, never block acks
    lease_s: float = 90.0  # a request whose replica stopped is taken over after this
    command_prefix: str = ""  # SLACK_COMMAND_PREFIX: pb- makes /rollback /pb-rollback

    def __repr__(self) -> str:  # secrets never reach a log line
        return (f"SlackSettings(api_url={self.api_url!r}, workers={self.workers}, "
                f"command_prefix={self.command_prefix!r})")


def load_slack_settings(env: Environment | Mapping[str, str], *,
                        socket_mode: bool = False, posting_only: bool = False) -> SlackSettings:
    """The Slack part of the settings (`env`: the App's, or variables by name, for tests).
    `posting_only`: for the CLI's posts (digest, rehearsal), which only need the token."""
    e = env if isinstance(env, Environment) else environment(env)
    given = {"SLACK_BOT_TOKEN": e.slack_bot_token, "SLACK_SIGNING_SECRET": e.slack_signing_secret,
             "SLACK_APP_TOKEN": e.slack_app_token}
    needed = ["SLACK_BOT_TOKEN"]
    if not posting_only:
        needed.append("SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET")
    missing = [name for name in needed if not given[name]]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
            + ("cannot post to Slack" if posting_only else "the Slack app cannot start"),
            hint="; ".join(f"export {name}: {WHERE[name]}" for name in missing))
    assert e.slack_bot_token is not None
    api_url = e.slack_api_url or DEFAULT_API_URL
    return SlackSettings(
        bot_token=e.slack_bot_token, signing_secret=e.slack_signing_secret,
        api_url=api_url if api_url.endswith("/") else api_url + "/",
        app_token=e.slack_app_token, workers=e.slack_workers, lease_s=e.slack_lease_s,
        command_prefix=e.slack_command_prefix)
