"""The sandbox as the page drives it, over HTTP against `playbook serve --sandbox --seed` in a
real process: the same signed /slack/events requests Slack sends, the same Slack app, and the
registry checked with the plain CLI afterwards. (The server's life, restarts, modes and
Ctrl-C, is test_sandbox_lifecycle.py's.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sandbox_drive import (
    ANA,
    BEN,
    INCIDENTS,
    OLLY,
    RELEASES,
    YOU,
    channel_id,
    click,
    one,
    production,
    run,
    seeded,
    wait_for,
)
from sandbox_process import SandboxServer, start_sandbox
from testkit.waiting import until


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One server for the tests that do not move production."""
    server = start_sandbox(tmp_path_factory.mktemp("shared"))
    try:
        yield server
    finally:
        server.stop()


def test_promote_approve_and_roll_back_as_a_newcomer_would(sandbox_server: SandboxServer
                                                           ) -> None:
    s = sandbox_server
    newest, prod, first = seeded(s, "triage")
    assert production(s, "triage").startswith(prod.split("@")[1])
    releases = channel_id(s, RELEASES)

    run(s, YOU, releases, f"/promote triage {newest}")
    card = wait_for(s, YOU, lambda ms: one(ms, says="Promotion request", ephemeral=False))
    assert card["channel"] == releases and not card["edited"]
    assert {"approval_approve", "approval_reject"} <= {
        e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}
    own = wait_for(s, YOU, lambda ms: one(ms, says="/promote triage", ephemeral=True, user=YOU))
    assert own["command"]
    assert one(s.state(BEN)["messages"], says="/promote triage") is None

    assert click(s, YOU, card, "approval_approve").json()["ok"]
    refusal = wait_for(s, YOU, lambda ms: one(ms, says="cannot approve it", ephemeral=True))
    assert refusal["channel"] == releases
    assert one(s.state(BEN)["messages"], says="cannot approve it") is None
    assert click(s, OLLY, card, "approval_approve").json()["ok"]
    wait_for(s, OLLY, lambda ms: one(ms, says="is not a member of", ephemeral=True))
    assert production(s, "triage").startswith(prod.split("@")[1])

    assert click(s, BEN, card, "approval_approve").json()["ok"]
    # The refused clicks re-rendered the card already: wait for the approval itself.
    decided = wait_for(s, ANA, lambda ms: [m for m in ms if m["ts"] == card["ts"]
                                           and "Approved by <@U0BEN>" in m["text"]])
    assert decided[0]["edited"]
    assert not [b for b in decided[0]["blocks"] if b["type"] == "actions"]
    assert production(s, "triage").startswith(newest.split("@")[1])

    run(s, BEN, releases, "/rollback triage because answers went vague")
    wait_for(s, BEN, lambda ms: one(ms, says="run only in #incidents", ephemeral=True))
    assert production(s, "triage").startswith(newest.split("@")[1])

    incidents = channel_id(s, INCIDENTS)
    run(s, BEN, incidents, "/rollback triage because answers went vague")
    record = wait_for(s, ANA, lambda ms: one(ms, says="Rolled back triage", ephemeral=False))
    assert record["channel"] == incidents
    reply = wait_for(s, ANA, lambda ms: one(ms, says="Confirmation eval passed"))
    assert reply["thread_ts"] == record["ts"]
    assert wait_for(s, ANA, lambda ms: [m for m in ms if m["ts"] == record["ts"]
                                        and m["reply_count"] == 1])
    assert production(s, "triage").startswith(prod.split("@")[1])
    done = s.playbook("incidents", "triage")
    assert done.returncode == 0 and "triage" in done.stdout, done.stderr
    assert first != prod


def test_a_low_stakes_promotion_is_announced_to_everyone_at_once(shared: SandboxServer
                                                                 ) -> None:
    newest = seeded(shared, "support")[0]
    releases = channel_id(shared, RELEASES)
    run(shared, ANA, releases, f"/promote support {newest} because shorter answers")
    wait_for(shared, OLLY, lambda ms: one(ms, says=f"Promoted {newest}"))
    wait_for(shared, ANA, lambda ms: one(ms, says="announced in", ephemeral=True))
    assert one(shared.state(YOU)["messages"], says="announced in") is None


def test_every_change_reaches_the_event_stream(shared: SandboxServer) -> None:
    with httpx.Client(base_url=shared.base_url, timeout=20) as sse, \
            sse.stream("GET", "/sandbox/events") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        first = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        run(shared, YOU, channel_id(shared, INCIDENTS), "/registry help")
        later = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
    assert later["version"] > first["version"]


def test_the_home_tab_shows_every_model_to_whoever_opens_it(shared: SandboxServer) -> None:
    answer = shared.http.post("/sandbox/home", json={"user": BEN})
    assert answer.status_code == 200 and answer.json()["ok"], answer.text
    until(lambda: shared.state(BEN)["home"] is not None, "an App Home view to be published")
    home = shared.state(BEN)["home"]
    assert "support" in json.dumps(home) and "triage" in json.dumps(home)
    assert shared.state(OLLY)["home"] is None

    # a Home button has no channel (the payload's container is the view): the rehearsal runs
    # and reports in the model's incident channel
    [(block, button)] = [(b, e) for b in home["blocks"] if b["type"] == "actions"
                         for e in b["elements"] if e.get("value") == "support"]
    answer = shared.http.post("/sandbox/action", json={
        "user": BEN, "channel": None, "message_ts": None, "action_id": button["action_id"],
        "block_id": block.get("block_id", ""), "value": button["value"]})
    assert answer.status_code == 200 and answer.json()["status"] == 200, answer.text
    done = wait_for(shared, YOU, lambda ms: one(ms, says="Rehearsal of support done"))
    assert done["channel"] == channel_id(shared, INCIDENTS)


def test_a_bad_request_says_what_to_send(shared: SandboxServer) -> None:
    releases = channel_id(shared, RELEASES)
    cases = [
        ("/sandbox/command", {"user": YOU, "channel": releases, "text": "/deploy chat"},
         "/deploy is not a command of this app"),
        ("/sandbox/command", {"user": YOU, "text": "/promote"}, "channel"),
        ("/sandbox/command", {"user": "UNOBODY", "channel": releases, "text": "/registry help"},
         "no user 'UNOBODY'"),
        ("/sandbox/command", {"user": YOU, "channel": "#nowhere", "text": "/registry help"},
         "no channel '#nowhere'"),
        ("/sandbox/action", {"user": YOU, "channel": releases, "message_ts": "1.000001",
                             "action_id": "approval_approve"}, "no message 1.000001"),
        ("/sandbox/home", {"who": YOU}, "user"),
    ]
    for path, body, says in cases:
        answer = shared.http.post(path, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["ok"] is False and says in answer.json()["error"], answer.text
    answer = shared.http.post("/sandbox/command", content=b"not json",
                              headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]
    assert shared.http.get("/sandbox/state", params={"user": "UNOBODY"}).status_code == 400
    default = shared.http.get("/sandbox/state")  # a first visit: the default user's view
    assert default.status_code == 200 and default.json()["me"] == YOU


def test_requests_another_web_page_could_make_are_refused(shared: SandboxServer) -> None:
    """A form or text/plain POST needs no permission from the browser, and any page could send
    it: the sandbox takes JSON from its own origin only, and changes nothing otherwise."""
    def digests_in_releases() -> int:
        state = shared.http.get("/sandbox/state", params={"user": YOU}).json()
        releases = next(c["id"] for c in state["channels"] if c["name"] == "releases")
        return sum(1 for m in state["messages"]
                   if m["channel"] == releases and "Daily digest" in m["text"])

    before = digests_in_releases()
    body = json.dumps({"user": YOU, "channel": RELEASES, "text": "/registry digest"})
    plain = shared.http.post("/sandbox/command", content=body,
                             headers={"content-type": "text/plain"})
    assert plain.status_code == 400 and "application/json" in plain.json()["error"]
    foreign = shared.http.post("/sandbox/command", content=body, headers={
        "content-type": "application/json", "origin": "https://evil.example"})
    assert foreign.status_code == 400 and "evil.example" in foreign.json()["error"]
    tokenless = httpx.post(f"{shared.base_url}/sandbox/command", content=body, headers={
        "content-type": "application/json", "origin": shared.base_url}, timeout=30)
    assert tokenless.status_code == 400 and "token" in tokenless.json()["error"]
    assert digests_in_releases() == before
    own = shared.http.post("/sandbox/command", content=body, headers={
        "content-type": "application/json", "origin": str(shared.http.base_url).rstrip("/")})
    assert own.status_code == 200, own.text
    until(lambda: digests_in_releases() != before, "the page's own request to be delivered")


def test_a_rebound_host_name_and_guessed_file_ids_reach_nothing(shared: SandboxServer) -> None:
    """DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1 makes the
    browser send `Host: evil.example:PORT` and a matching Origin; it must read and change
    nothing. Upload URLs take no token (as Slack's), so their file ids are unguessable."""
    rebound = f"evil.example:{shared.port}"
    body = json.dumps({"user": YOU, "channel": RELEASES, "text": "/registry digest"})
    headers = {"host": rebound, "origin": f"http://{rebound}",
               "content-type": "application/json"}
    for answer in (shared.http.get("/sandbox/state", headers={"host": rebound}),
                   shared.http.post("/sandbox/command", content=body, headers=headers),
                   shared.http.post("/slack/events", content=b"x", headers=headers),
                   shared.http.get("/v1/models/chat/route", headers={"host": rebound})):
        assert answer.status_code == 403, answer.text
        assert "127.0.0.1" in answer.text and "page_token" not in answer.text
    for name in ("localhost", "127.0.0.1"):
        assert shared.http.get("/sandbox/state", headers={
            "host": f"{name}:{shared.port}"}).status_code == 200

    run(shared, YOU, channel_id(shared, INCIDENTS), "/audit support-req-1")
    files = wait_for(shared, YOU, lambda ms: [f for m in ms for f in m.get("files") or []])
    bundle = shared.http.get(files[0]["url"]).content
    assert b"support-req-1" in bundle and len(files[0]["id"]) > 16
    for file_id in ("F00000001", "F00000002", files[0]["id"]):
        again = shared.http.post(f"/sandbox/slack/upload/{file_id}", content=b"overwritten",
                                 headers={"content-type": "text/plain"})
        assert again.status_code == 404
    assert shared.http.get(files[0]["url"]).content == bundle


def test_someone_outside_a_channel_cannot_type_in_it(shared: SandboxServer) -> None:
    answer = shared.http.post("/sandbox/command", json={
        "user": OLLY, "channel": RELEASES, "text": "/promote triage triage@00000000"})
    assert answer.status_code == 400 and "not in #releases" in answer.json()["error"]
    elsewhere = shared.http.post("/sandbox/command", json={
        "user": YOU, "channel": BEN, "text": "/registry help"})  # Ben's direct messages
    assert elsewhere.status_code == 400 and "direct message" in elsewhere.json()["error"]


def test_the_web_api_stand_in_wants_the_bot_token(shared: SandboxServer) -> None:
    answer = shared.http.post("/sandbox/slack/api/chat.postMessage",
                              data={"channel": "#releases", "text": "spoofed"},
                              headers={"Authorization": "Bearer xoxb-guess"})
    assert answer.json() == {"ok": False, "error": "invalid_auth", "detail": "invalid_auth"}
    assert one(shared.state(YOU)["messages"], says="spoofed") is None


def test_the_page_and_its_files_are_served(shared: SandboxServer) -> None:
    page = shared.http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    script = shared.http.get("/sandbox/static/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert shared.http.get("/sandbox/static/..%2Fworkspace.py").status_code == 404


def test_the_page_is_told_what_to_try_in_each_channel(shared: SandboxServer) -> None:
    state = shared.http.get("/sandbox/state", params={"user": YOU}).json()
    by_name = {c["name"]: c["id"] for c in state["channels"]}
    tips = state["tips"]
    assert any(t.startswith("/promote triage triage@") for t in tips[by_name["releases"]])
    assert any(t.startswith("/rollback triage") for t in tips[by_name["incidents"]])
    assert tips[by_name["ml-digest"]] == ["/registry digest"]
