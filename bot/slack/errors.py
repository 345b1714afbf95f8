"""The one place errors become Slack messages: Bolt's @app.error and the background workers
both call `report`, so a refusal is rendered once, ephemeral, to the person who asked."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec

from slack_bolt import App
from slack_bolt.context.respond import Respond
from slack_sdk.errors import SlackApiError

from bot.slack.blocks.errors import error_message
from core.errors import PlaybookError

log = logging.getLogger("playbook.slack")
P = ParamSpec("P")
Reply = Callable[..., object]  # Bolt's Respond, or a DM where Slack gave no response_url

HINTS = {
    "channel_not_found": "check the channel in playbook.toml (an id like C0123ABCD, or #name) "
                         "and that the bot can see it (private channels: invite it)",
    "not_in_channel": "invite the bot to that channel: `/invite @Playbook`",
    "is_archived": "the channel is archived; point playbook.toml at a live one",
    "ratelimited": "Slack rate-limited the bot and retries ran out; try again in a minute",
    "invalid_auth": "SLACK_BOT_TOKEN is wrong or revoked; reinstall the app",
    "missing_scope": "the app lacks a scope it needs; update it from the manifest and "
                     "reinstall",
    "no_such_subteam": "approver_group in playbook.toml names no Slack user group",
}
# The same errors where the bot wrote to a person (a DM, as for an App Home click).
DM_HINTS = {
    "channel_not_found": "Slack would not open a direct message with that person (a guest "
                         "account, a deactivated one, or the app's Messages tab turned off in "
                         "its settings); use a channel instead",
    "not_in_channel": "Slack would not open a direct message with that person; use a channel "
                      "instead",
}


class SlackCallFailed(PlaybookError):
    """A Slack Web API call failed after the retries Slack asked for.

    `done` says what had already happened (a tag move), so the message never hides it.
    """

    code = "SLACK_CALL_FAILED"

    def __init__(self, action: str, error: str, *, done: str | None = None,
                 to_a_person: bool = False) -> None:
        hint = (DM_HINTS.get(error) if to_a_person else None) or HINTS.get(
            error, "see https://api.slack.com/methods for the error code")
        super().__init__(f"{action} failed: Slack said `{error}`", hint=hint)
        self.error = error
        self.done = done


def slack_error(action: str, exc: SlackApiError, *, to_a_person: bool = False
                ) -> SlackCallFailed:
    error = exc.response.get("error") if exc.response is not None else None
    return SlackCallFailed(action, str(error or exc), to_a_person=to_a_person)


def report(error: BaseException, respond: Reply | None) -> None:
    """Tell the person who asked; never raise from here (the error is already the story)."""
    if isinstance(error, PlaybookError):
        log.info("refused: %s", error.one_line())
    else:
        log.error("unexpected error in a Slack listener", exc_info=error)
    if respond is None:
        return
    try:
        respond(**error_message(error), response_type="ephemeral", replace_original=False)
    except Exception:  # the response_url may be gone; the log above keeps the story
        log.exception("could not tell the user about: %s", error)


def reports_errors(listener: Callable[P, None]) -> Callable[P, None]:
    """Every listener goes through this: it acks first, and whatever it raises is `report`ed.

    Not left to @app.error: when a listener raises after ack(), Bolt's thread runner resets
    the acknowledgement and the HTTP answer waits out the 3 s ack timeout (then "unhandled
    request"), so Slack would show a timeout on top of the refusal. Bolt injects arguments by
    name and unwraps this decorator, so listeners keep their typed signatures; a listener
    that can fail names `respond` so the refusal reaches the person who asked.
    """

    @functools.wraps(listener)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            listener(*args, **kwargs)
        except Exception as exc:
            ack: Any = kwargs.get("ack")
            if ack is not None and ack.response is None:
                ack()
            respond: Any = kwargs.get("respond")
            report(exc, respond)

    return run


def register(app: App) -> None:
    """Errors Bolt itself meets (in middleware, say) are rendered the same way."""

    @app.error
    def render_error(error: Exception, respond: Respond | None) -> None:
        report(error, respond)
