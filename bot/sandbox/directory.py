"""The sandbox workspace as playbook.toml describes it: its channels and the people named in it.

Channels: every channel the config names (release, incident, and the scheduler's digest
channels once `PlaybookConfig.channel_refs` exists), by id or name; a named channel gets a
made-up id, a channel given by id a made-up name. People: owners, approvers and an invented
member per approver group, plus "You" (the requester) and an outsider. Everyone but the
outsider is in every channel, so the second-approver rule is what decides a click.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.records import Channel, User
from bot.sandbox.workspace import Workspace
from bot.shared.slack_ids import SLACK_CHANNEL, bare
from core.config import PlaybookConfig

WORKSPACE_NAME = "Playbook sandbox"
REQUESTER = User("U0YOU", "You", "requester")
OUTSIDER = User("U0OUT", "Olly", "outside the channel")
GENERAL = "#general"  # where to type when the config names no channel at all
GROUP_ID = "S"  # Slack user group ids start with S; anything else is a handle


def channel_refs(config: PlaybookConfig) -> list[str]:
    """Every channel the config names, in order, each once (by its bare, lowercased ref)."""
    named: Any = getattr(config, "channel_refs", None)
    if callable(named):
        refs = [str(r) for r in named()]
    else:
        refs = []
        for policy in config.models.values():
            refs += [r for r in (policy.release_channel, policy.incident_channel) if r]
    seen: dict[str, str] = {}
    for ref in refs:
        seen.setdefault(bare(ref).lower(), ref)
    return list(seen.values())


def display_name(user_id: str) -> str:
    """`U0ANA` -> `Ana`; anything not shaped like a Slack id stays as it is."""
    if user_id.startswith("U0") and len(user_id) > 2:
        return user_id[2:].capitalize()
    if user_id.startswith(("U", "W")) and len(user_id) > 1:
        return user_id[1:].capitalize()
    return user_id


def _purpose(config: PlaybookConfig, ref: str) -> str:
    key = bare(ref).lower()
    said = []
    for kind, attr in (("Releases", "release_channel"), ("Incidents", "incident_channel")):
        models = [name for name, p in sorted(config.models.items())
                  if getattr(p, attr) and bare(getattr(p, attr)).lower() == key]
        if models:
            said.append(f"{kind} of {', '.join(models)}")
    if said:
        return "; ".join(said)
    return "The whole team" if ref == GENERAL else "Scheduled posts (digest)"


def people(config: PlaybookConfig) -> tuple[list[User], dict[str, list[str]], dict[str, str]]:
    """The users (requester first), user groups (id -> members) and group handles."""
    roles: dict[str, list[str]] = {REQUESTER.id: [REQUESTER.role]}
    groups: dict[str, list[str]] = {}
    handles: dict[str, str] = {}
    for _, policy in sorted(config.models.items()):
        if policy.owner:
            roles.setdefault(policy.owner, []).append("owner")
        for approver in policy.approvers:
            roles.setdefault(approver, []).append("approver")
        if policy.approver_group and policy.approver_group not in handles:
            group = policy.approver_group
            group_id = group if group.startswith(GROUP_ID) and group.isupper() \
                else f"S0SB{len(handles) + 1:02d}"
            handles[group.lstrip("@")] = group_id
            member = f"U0GRP{len(handles)}"
            roles.setdefault(member, []).append(f"in approver group {group}")
            groups[group_id] = [member, *policy.approvers]
    users = [User(uid, "You" if uid == REQUESTER.id else display_name(uid),
                  ", ".join(dict.fromkeys(r))) for uid, r in roles.items()]
    return [*users, OUTSIDER], groups, handles


def build_workspace(config: PlaybookConfig) -> Workspace:
    users, groups, handles = people(config)
    insiders = [u.id for u in users if u.id != OUTSIDER.id]
    channels = []
    for n, ref in enumerate(channel_refs(config) or [GENERAL], start=1):
        want = bare(ref)
        if SLACK_CHANNEL.match(want):
            cid, name = want, f"channel-{want.lower()}"
        else:
            cid, name = f"C0SB{n:02d}", want.lower()
        channels.append(Channel(id=cid, name=name, purpose=_purpose(config, ref),
                                members=list(insiders)))
    return Workspace(WORKSPACE_NAME, users, channels, groups, handles)
