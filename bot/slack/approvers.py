"""Who may approve, as Slack sees it: core.ports.ApproverDirectory for one approval card.

An approver must be a member of the channel the card is in (the person can see what they
approve) and be listed in the model's `approvers` or belong to its `approver_group` (a Slack
user group). Membership is asked at the moment of the click, never cached: people leave
channels and groups, and an approval must reflect who they are now.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks.common import channel as channel_text
from bot.slack.blocks.common import user as user_text
from bot.slack.channels import ChannelDirectory
from bot.slack.errors import slack_error
from core.config import ModelPolicy

GROUP_ID = "S"  # Slack user group ids start with S; anything else is a handle to look up


class SlackApprovers:
    def __init__(self, client: WebClient, channels: ChannelDirectory, channel: str) -> None:
        self._client = client
        self._channels = channels
        self._channel = channel

    def may_approve(self, policy: ModelPolicy, user: str) -> tuple[bool, str]:
        where = channel_text(self._channel)
        if user not in self._members(self._channels.resolve(self._channel)):
            return False, (f"{user_text(user)} is not a member of {where}, where this "
                           f"request is decided; join it or ask a member who approves "
                           f"{policy.name}")
        if user in policy.approvers:
            return True, ""
        if policy.approver_group:
            if user in self._group(policy.approver_group):
                return True, ""
            return False, (f"{user_text(user)} is not in {policy.name}'s approver group "
                           f"{policy.approver_group}; ask a group admin, or for another "
                           "approver")
        listed = ", ".join(user_text(u) for u in policy.approvers) or "nobody"
        return False, f"{user_text(user)} is not an approver of {policy.name} (approvers: " \
                      f"{listed})"

    def _members(self, channel_id: str) -> set[str]:
        members: set[str] = set()
        cursor = None
        try:
            while True:
                page = self._client.conversations_members(channel=channel_id, limit=1000,
                                                          cursor=cursor)
                members.update(str(m) for m in page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return members
        except SlackApiError as exc:
            raise slack_error(f"checking the members of {channel_text(channel_id)}",
                              exc) from exc

    def _group(self, group: str) -> set[str]:
        try:
            group_id = group if group.startswith(GROUP_ID) and group.isupper() else \
                self._group_id(group)
            page = self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            raise slack_error(f"reading approver group {group}", exc) from exc
        return {str(u) for u in page.get("users") or []}

    def _group_id(self, handle: str) -> str:
        want = handle.lstrip("@").lower()
        for g in self._client.usergroups_list().get("usergroups") or []:
            if want in (str(g.get("handle", "")).lower(), str(g.get("name", "")).lower()):
                return str(g["id"])
        return handle  # let usergroups.users.list say no_such_subteam
