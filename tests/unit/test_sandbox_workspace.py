"""The sandbox workspace keeps Slack's rules: who sees what, what a response_url post does,
which channel refs resolve, and how the workspace is read from playbook.toml."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from bot.sandbox.directory import OUTSIDER, REQUESTER, build_workspace, channel_refs
from bot.sandbox.persist import Keeper
from bot.sandbox.records import BOT_USER, Channel, ResponseTarget, SlackError, User
from bot.sandbox.slack_api import WebApi
from bot.sandbox.workspace import Workspace
from core.config import parse_config

CARD = [{"type": "actions", "block_id": "b", "elements": [
    {"type": "button", "action_id": "approve", "value": "apr-1"}]}]


@pytest.fixture
def ws() -> Workspace:
    users = [User("U0YOU", "You", "requester"), User("U0BEN", "Ben", "approver"),
             User("U0OUT", "Olly", "outside the channel")]
    return Workspace("test", users, [
        Channel("C0SB01", "releases", "Releases", ["U0YOU", "U0BEN"]),
        Channel("C0SB02", "incidents", "Incidents", ["U0YOU", "U0BEN"])],
        groups={"S01": ["U0BEN"]}, handles={"approvers": "S01"})


def texts(ws: Workspace, user: str) -> list[str]:
    return [m["text"] for m in ws.snapshot(user)["messages"]]


def test_an_ephemeral_message_is_seen_by_its_user_only(ws: Workspace) -> None:
    ws.post("C0SB01", user=BOT_USER, text="for you", ephemeral_to="U0YOU")
    ws.post("C0SB01", user=BOT_USER, text="for all")
    assert texts(ws, "U0YOU") == ["for you", "for all"]
    assert texts(ws, "U0BEN") == ["for all"]
    assert [m["ephemeral"] for m in ws.snapshot("U0YOU")["messages"]] == [True, False]


def test_post_ephemeral_refuses_someone_outside_the_channel(ws: Workspace) -> None:
    with pytest.raises(SlackError) as caught:
        ws.post_ephemeral("C0SB01", to="U0OUT", text="x")
    assert caught.value.error == "user_not_in_channel"


def test_channels_resolve_by_id_name_and_hash_name_and_unknown_ones_are_not_found(
        ws: Workspace) -> None:
    assert {ws.channel(r).id for r in ("C0SB01", "releases", "#releases", "#Releases")} \
        == {"C0SB01"}
    with pytest.raises(SlackError) as caught:
        ws.channel("#nowhere")
    assert caught.value.error == "channel_not_found"
    with pytest.raises(SlackError):
        ws.members("releases")  # conversations.members takes ids only, like Slack


def test_a_post_to_a_user_is_a_direct_message_only_that_user_has(ws: Workspace) -> None:
    msg = ws.post("U0BEN", user=BOT_USER, text="hi Ben")
    assert msg.channel == "DU0BEN"
    ben = ws.snapshot("U0BEN")
    assert [c["id"] for c in ben["channels"] if c["is_dm"]] == ["DU0BEN"]
    assert texts(ws, "U0BEN") == ["hi Ben"]
    assert not [c for c in ws.snapshot("U0YOU")["channels"] if c["is_dm"]]
    assert texts(ws, "U0YOU") == []


def test_chat_update_edits_the_bots_channel_message_only(ws: Workspace) -> None:
    card = ws.post("C0SB01", user=BOT_USER, text="card", blocks=CARD)
    ws.update("C0SB01", card.ts, text="decided", blocks=[])
    [seen] = ws.snapshot("U0BEN")["messages"]
    assert (seen["text"], seen["blocks"], seen["edited"]) == ("decided", [], True)
    own = ws.post("C0SB01", user="U0YOU", text="mine")
    hidden = ws.post("C0SB01", user=BOT_USER, text="psst", ephemeral_to="U0YOU")
    for ts, error in ((own.ts, "cant_update_message"), (hidden.ts, "message_not_found"),
                      ("1.000000", "message_not_found")):
        with pytest.raises(SlackError) as caught:
            ws.update("C0SB01", ts, text="x", blocks=None)
        assert caught.value.error == error


def test_an_update_that_changes_nothing_shown_is_not_an_edit(ws: Workspace) -> None:
    card = ws.post("C0SB01", user=BOT_USER, text="card", blocks=CARD)
    version = ws.version
    ws.update("C0SB01", card.ts, text="card", blocks=[{**CARD[0], "block_id": "new-id"}])
    [seen] = ws.snapshot("U0BEN")["messages"]
    assert (seen["edited"], ws.version) == (False, version)
    ws.update("C0SB01", card.ts, text="card, decided", blocks=CARD)
    [seen] = ws.snapshot("U0BEN")["messages"]
    assert (seen["text"], seen["edited"], ws.version) == ("card, decided", True, version + 1)


def test_a_message_ts_is_its_posting_time_unique_and_increasing() -> None:
    now = [1_796_000_000.25]
    ws = Workspace("test", [User("U0YOU", "You", "requester")],
                   [Channel("C0SB01", "releases", "Releases", ["U0YOU"])], clock=lambda: now[0])
    first = ws.post("C0SB01", user=BOT_USER, text="one")
    second = ws.post("C0SB01", user=BOT_USER, text="two")  # the same microsecond
    now[0] = 1_796_000_060.5
    third = ws.post("C0SB01", user=BOT_USER, text="three")
    assert [first.ts, second.ts, third.ts] == ["1796000000.250000", "1796000000.250001",
                                               "1796000060.500000"]
    now[0] = 1_795_999_000.0  # a clock set back (or messages kept from a later run)
    assert ws.post("C0SB01", user=BOT_USER, text="four").ts == "1796000060.500001"


def test_replies_count_on_their_parent_and_need_one(ws: Workspace) -> None:
    parent = ws.post("C0SB02", user=BOT_USER, text="incident")
    ws.post("C0SB02", user=BOT_USER, text="confirmed", thread_ts=parent.ts)
    ws.post("C0SB02", user=BOT_USER, text="only you", thread_ts=parent.ts,
            ephemeral_to="U0YOU")
    counts = {m["text"]: m["reply_count"] for m in ws.snapshot("U0YOU")["messages"]}
    assert counts["incident"] == 1  # the ephemeral reply is not counted
    with pytest.raises(SlackError):
        ws.post("C0SB02", user=BOT_USER, text="orphan", thread_ts="9.000001")


def respond_to(ws: Workspace, body: dict[str, Any], original: str | None = None,
               key: str = "k") -> None:
    ws.expect_response(key, ResponseTarget("U0YOU", "C0SB01", original))
    ws.respond(key, body)


def test_a_response_without_a_type_is_ephemeral_and_in_channel_is_for_everyone(
        ws: Workspace) -> None:
    respond_to(ws, {"text": "only you"}, key="a")
    respond_to(ws, {"text": "everyone", "response_type": "in_channel"}, key="b")
    respond_to(ws, {"text": "also only you", "response_type": "ephemeral"}, key="c")
    assert texts(ws, "U0YOU") == ["only you", "everyone", "also only you"]
    assert texts(ws, "U0BEN") == ["everyone"]


def test_replace_original_edits_the_clicked_message_and_delete_original_removes_it(
        ws: Workspace) -> None:
    card = ws.post("C0SB01", user=BOT_USER, text="card", blocks=CARD)
    respond_to(ws, {"text": "done", "replace_original": True}, original=card.ts, key="a")
    [seen] = ws.snapshot("U0BEN")["messages"]
    assert (seen["text"], seen["edited"], seen["blocks"]) == ("done", True, None)
    respond_to(ws, {"delete_original": True}, original=card.ts, key="b")
    assert texts(ws, "U0BEN") == []


def test_a_refusal_with_replace_original_false_leaves_the_card_alone(ws: Workspace) -> None:
    card = ws.post("C0SB01", user=BOT_USER, text="card", blocks=CARD)
    respond_to(ws, {"text": "you may not", "replace_original": False}, original=card.ts)
    assert texts(ws, "U0YOU") == ["card", "you may not"]
    assert texts(ws, "U0BEN") == ["card"]


def test_a_commands_second_response_can_replace_its_first(ws: Workspace) -> None:
    ws.expect_response("k", ResponseTarget("U0YOU", "C0SB01", None))
    ws.respond("k", {"text": "working"})
    ws.respond("k", {"text": "done", "replace_original": True})
    assert texts(ws, "U0YOU") == ["done"]


def test_an_unknown_response_url_is_expired(ws: Workspace) -> None:
    with pytest.raises(SlackError) as caught:
        ws.respond("nope", {"text": "x"})
    assert caught.value.error == "expired_url"


def test_every_change_bumps_the_version_and_wakes_a_waiter(ws: Workspace) -> None:
    seen = ws.version
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(ws.wait_for_change(seen, 10)))
    waiter.start()
    ws.publish_home("U0YOU", {"type": "home", "blocks": []})
    waiter.join(10)
    assert woke == [seen + 1]
    assert ws.snapshot("U0YOU")["home"]["type"] == "home"
    assert ws.snapshot("U0BEN")["home"] is None


def test_uploaded_files_are_shared_as_one_bot_message_in_the_thread(ws: Workspace) -> None:
    parent = ws.post("C0SB02", user=BOT_USER, text="audit")
    stored = ws.new_file("audit-r1.json")
    ws.upload(stored.id, b'{"a": 1}')
    ws.share_files([(stored.id, "Audit bundle")], channel="C0SB02", comment="bundle",
                   thread_ts=parent.ts)
    reply = ws.snapshot("U0BEN")["messages"][-1]
    assert reply["thread_ts"] == parent.ts and reply["text"] == "bundle"
    assert reply["files"] == [{"id": stored.id, "name": "audit-r1.json",
                               "title": "Audit bundle", "url": f"/sandbox/slack/files/{stored.id}"}]


CONFIG = {
    "defaults": {"release_channel": "#releases"},
    "models": {
        "chat": {"owner": "U0ANA", "incident_channel": "C0INCIDENT"},
        "risky": {"stakes": "high", "owner": "U0ANA", "approvers": ["U0BEN"],
                  "approver_group": "ml-approvers", "incident_channel": "#Incidents"}}}


def test_the_workspace_has_the_configs_channels_by_name_and_by_id() -> None:
    ws = build_workspace(parse_config(CONFIG))
    listed = WebApi(ws).list_channels({})["channels"]
    assert [(c["id"], c["name"]) for c in listed] == [
        ("C0SB01", "releases"), ("C0INCIDENT", "channel-c0incident"), ("C0SB03", "incidents")]
    assert ws.channel("#incidents").purpose == "Incidents of risky"


def test_the_workspace_has_the_configs_people_a_requester_and_an_outsider() -> None:
    ws = build_workspace(parse_config(CONFIG))
    users = {u.id: u.role for u in ws.users.values()}
    assert next(iter(users)) == REQUESTER.id
    assert users["U0ANA"] == "owner" and users["U0BEN"] == "approver"
    assert users["U0GRP1"] == "in approver group ml-approvers"
    assert users[OUTSIDER.id] == "outside the channel"
    for channel in ws.channels.values():
        assert OUTSIDER.id not in channel.members and REQUESTER.id in channel.members
    group = ws.handles["ml-approvers"]
    assert ws.group_users(group) == ["U0GRP1", "U0BEN"]


def test_channel_refs_come_from_the_config_when_it_lists_them() -> None:
    config = SimpleNamespace(channel_refs=lambda: ["#releases", "#digest", "releases"],
                             models={})
    assert channel_refs(config) == ["#releases", "#digest"]  # type: ignore[arg-type]


def test_the_history_survives_a_restart_and_the_version_moves_on(ws: Workspace,
                                                                  tmp_path: Any) -> None:
    card = ws.post("C0SB01", user=BOT_USER, text="card", blocks=CARD)
    ws.post("U0BEN", user=BOT_USER, text="hi Ben")
    stored = ws.new_file("a.json")
    ws.upload(stored.id, b"\x00{}")
    ws.share_files([(stored.id, None)], channel="C0SB02", comment=None, thread_ts=None)
    ws.publish_home("U0YOU", {"type": "home", "blocks": []})
    keeper = Keeper(ws, tmp_path)
    keeper.save()

    fresh = Workspace("test", ws.users.values(), [
        Channel("C0SB01", "releases", "Releases", ["U0YOU", "U0BEN"]),
        Channel("C0SB02", "incidents", "Incidents", ["U0YOU", "U0BEN"])])
    assert Keeper(fresh, tmp_path).load()
    assert fresh.snapshot("U0BEN") == {**ws.snapshot("U0BEN"), "version": fresh.version}
    assert fresh.version > ws.version
    assert fresh.files[stored.id].content == b"\x00{}"
    fresh.update("C0SB01", card.ts, text="decided", blocks=None)  # cards stay updatable


def test_a_config_without_channels_still_has_somewhere_to_type() -> None:
    ws = build_workspace(parse_config({"models": {"chat": {"owner": "U0ANA"}}}))
    assert [c.name for c in ws.public_channels()] == ["general"]
