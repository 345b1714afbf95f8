"""`playbook --server URL --token T ...` against a running server, over a real socket; and
`playbook token ...`, which runs where the database is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_harness import Api, FlakyProxy

from bot.cli.main import main


class Playbook:
    """`playbook` in-process: `local(...)` on the server's database, `remote(...)` over HTTP."""

    def __init__(self, api: Api, capsys: pytest.CaptureFixture[str]) -> None:
        self.api = api
        self.capsys = capsys

    def local(self, *argv: str, ok: bool = True) -> Any:
        settings = self.api.app.settings
        return self._run(["--config", str(settings.config_path), "--home", str(settings.home),
                          "--database", settings.database_url, "--as", "admin", *argv], ok)

    def remote(self, *argv: str, token: str = "ci", server: str | None = None,
               ok: bool = True) -> Any:
        secret = self.api.tokens.get(token, token)
        return self._run(["--server", server or self.api.url, "--token", secret, *argv], ok)

    def _run(self, argv: list[str], ok: bool) -> Any:
        code = main(["--json", *argv])
        out, err = self.capsys.readouterr()
        if ok:
            assert code == 0, f"playbook {' '.join(argv)} failed: {err}"
            return json.loads(out)
        assert code == 1, f"playbook {' '.join(argv)} should have been refused: {out}"
        assert err.startswith("playbook: "), err
        return err.strip()


@pytest.fixture
def pb(api: Api, capsys: pytest.CaptureFixture[str]) -> Playbook:
    return Playbook(api, capsys)


def reg(pb: Playbook, prompt: str, parent: str | None = None, *extra: str,
        server: str | None = None) -> dict[str, Any]:
    lineage = ["--parent", parent] if parent else ["--root"]
    answer: dict[str, Any] = pb.remote("register", "chat", *lineage, "--owner", "ana",
                                       "--reason", "ci build", "--prompt", prompt, *extra,
                                       server=server)
    return answer


def test_ci_and_on_call_drive_the_plays_remotely(pb: Playbook, tmp_path: Path) -> None:
    v1 = reg(pb, "x" * 40)
    assert v1["created"] and v1["scores"] == {"score": 0.4}
    assert reg(pb, "x" * 40)["created"] is False
    assert pb.remote("gate", "chat", v1["short"])["allowed"] is True
    refused = pb.remote("gate", "chat", "chat@deadbeef", ok=False)
    assert "may not be deployed" in refused and "not registered" in refused

    assert pb.remote("promote", "chat", v1["short"])["event"]["actor"] == "ci"
    v2 = reg(pb, "x" * 60, v1["short"], "--score", "score=0.9")
    pb.remote("promote", "chat", v2["short"], "--because", "CI says so")
    worse = reg(pb, "x" * 10, v2["short"])
    assert "below production" in pb.remote("gate", "chat", worse["short"], ok=False)
    assert "below production" in pb.remote("promote", "chat", worse["short"], ok=False)

    served = tmp_path / "served.jsonl"
    served.write_text("".join(json.dumps({"request_id": f"r{i}", "model": "chat",
                                          "version": v2["id"], "latency_ms": i}) + "\n"
                              for i in range(3)))
    assert pb.remote("attribute", str(served), token="serving") == {
        "received": 3, "stored": 3, "duplicates": 0}
    assert pb.remote("attribute", str(served), token="serving")["duplicates"] == 3
    bundle = pb.remote("audit", "r1", token="auditor")
    assert bundle["version"]["id"] == v2["id"] and len(bundle["lineage"]) == 2
    nearest = pb.remote("audit", "r1", "--lineage", "1", token="auditor")
    assert [x["id"] for x in nearest["lineage"]] == [v2["id"]] and nearest["lineage_truncated"]
    assert nearest["lineage_root"]["id"] == v1["id"]
    assert "`all`" in pb.remote("audit", "r1", "--lineage", "none", token="auditor", ok=False)
    assert pb.remote("audit", "--model", "chat", "--at", "now", token="auditor")[
        "version"]["id"] == v2["id"]
    assert "lacks the scope" in pb.remote("audit", "r1", ok=False)

    rolled = pb.remote("rollback", "chat", "--symptom", "timeouts")
    assert rolled["restored_version"] == v1["id"] and rolled["opened_by"] == "ci"
    assert "known-good" in pb.remote("rollback", "chat", ok=False)
    again = pb.remote("promote", "chat", v2["short"], ok=False)  # rolled back from: a reason
    assert f"incident {rolled['id']}" in again and "--override" in again
    back = pb.remote("promote", "chat", v2["short"], "--override", "timeouts fixed upstream")
    assert back["rolled_back"] == [rolled["id"]]
    assert back["event"]["reason"].endswith(f"({rolled['id']}): timeouts fixed upstream")
    assert "artifact" in pb.remote("register", "chat", "--root", "--owner", "a", "--reason",
                                   "r", "--prompt", "p", "--artifact", str(served), ok=False)
    with pytest.raises(SystemExit) as usage:
        pb.remote("versions", "chat")
    assert usage.value.code == 2


def test_high_stakes_approval_remotely(pb: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_SERVER", pb.api.url)
    monkeypatch.setenv("PLAYBOOK_TOKEN", pb.api.tokens["ci"])
    r1 = pb._run(["register", "risky", "--root", "--owner", "ana", "--reason", "first",
                  "--prompt", "z" * 30], True)  # server and token from the environment
    asked = pb.remote("promote", "risky", r1["short"])
    request = asked["request"]["id"]
    assert "cannot approve" in pb.remote("approve", request, ok=False)
    assert pb.remote("approve", request, token="ben")["status"] == "approved"
    r2 = pb.remote("register", "risky", "--parent", r1["short"], "--owner", "ana", "--reason",
                   "more", "--prompt", "z" * 40)
    second = pb.remote("promote", "risky", r2["short"])["request"]["id"]
    assert pb.remote("reject", second, "--reason", "later", token="ben")["status"] == \
        "rejected"


def test_tokens_are_shown_once_stored_hashed_and_revocable(pb: Playbook) -> None:
    made = pb.local("token", "create", "--name", "deploy", "--scope", "register",
                    "--scope", "resolve")
    secret = made["token"]
    assert secret.startswith("pbt_") and made["scopes"] == ["register", "resolve"]
    listed = pb.local("token", "list")
    assert "deploy" in [t["name"] for t in listed]
    assert all("token" not in t for t in listed)  # the secret is never shown again
    with pb.api.app.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars().all()
    assert secret not in stored and all(len(h) == 64 for h in stored)

    assert pb.remote("gate", "chat", "chat@deadbeef", token=secret, ok=False)
    assert "scope" in pb.local("token", "create", "--name", "x", ok=False)
    revoked = pb.local("token", "revoke", "deploy")
    assert revoked[0]["revoked_at"] is not None
    assert "deploy" not in [t["name"] for t in pb.local("token", "list")]
    assert "deploy" in [t["name"] for t in pb.local("token", "list", "--all")]
    assert "not registered" in pb.remote("gate", "chat", "chat@deadbeef", token=secret,
                                         ok=False)  # the server still has it cached
    pb.api.ticks.advance(0.21)  # the server's token cache is 0.2 s in these tests
    assert "unknown or revoked" in pb.remote("gate", "chat", "chat@deadbeef", token=secret,
                                             ok=False)
    assert "no live token" in pb.local("token", "revoke", "deploy", ok=False)


def test_a_lost_answer_is_retried_and_registers_once(pb: Playbook) -> None:
    proxy = FlakyProxy(pb.api.url, drop=1, fail=1)
    try:
        v1 = reg(pb, "x" * 40, server=proxy.url)
    finally:
        proxy.close()
    # First try: a 503 from the proxy; second: registered, but the answer was lost; third:
    # the same Idempotency-Key replays the stored answer.
    assert len(proxy.seen) == 3
    keys = {line.split(":", 1)[1].strip() for head in proxy.seen
            for line in head.split("\r\n") if line.lower().startswith("idempotency-key:")}
    assert len(keys) == 1
    assert v1["created"] is True
    with pb.api.app.ctx.uow() as uow:
        assert [v.id for v in uow.versions.list("chat")] == [v1["id"]]
        assert len(uow.runs.list(play="register")) == 1


def test_idempotency_keys_replay_and_refuse_reuse(api: Api) -> None:
    ci = api.call("ci")
    body = {"components": {"prompt": "k" * 30}, "owner": "a", "reason": "r", "root": True}
    first = ci.post("/v1/models/chat/versions", json=body, headers={"Idempotency-Key": "k1"})
    replay = ci.post("/v1/models/chat/versions", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    other = ci.post("/v1/models/chat/versions", json=body | {"reason": "changed"},
                    headers={"Idempotency-Key": "k1"})
    assert other.status_code == 422 and other.json()["error"]["code"] == \
        "IDEMPOTENCY_KEY_REUSED"
    # Keys belong to a token: the same key from another caller is a new request.
    again = api.call("root").post("/v1/models/chat/versions", json=body,
                                  headers={"Idempotency-Key": "k1"})
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    refused = ci.post("/v1/models/chat/versions", json={**body, "owner": ""},
                      headers={"Idempotency-Key": "k2"})
    assert refused.status_code == 422
    assert ci.post("/v1/models/chat/versions", json={**body, "owner": ""},
                   headers={"Idempotency-Key": "k2"}).headers["idempotent-replayed"] == "true"


def test_an_unreachable_server_fails_after_bounded_retries(
        pb: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_REMOTE_ATTEMPTS", "2")
    err = pb.remote("gate", "chat", "chat@deadbeef", server="http://127.0.0.1:9", ok=False)
    assert "did not answer after 2 attempts" in err
    assert httpx.get(pb.api.url + "/healthz").status_code == 200


def test_rollback_and_promote_send_the_revision_they_saw(pb: Playbook) -> None:
    """So a move is refused if the tag moved in between (another on-call's rollback); a
    token that may not read tags sends none, and the server moves by compare-and-set alone."""
    v1 = reg(pb, "x" * 40)
    v2 = reg(pb, "x" * 60, parent=v1["short"])
    pb.remote("promote", "chat", v1["short"], token="root")
    pb.remote("promote", "chat", v2["short"])  # ci: register only, cannot read tags
    pb.remote("rollback", "chat", "--symptom", "empty", token="root")
    with pb.api.app.ctx.uow() as uow:
        promotes = sorted(uow.runs.list(play="promote"), key=lambda r: r.started_at)
        (rolled,) = uow.runs.list(play="rollback")
    assert [r.inputs["expected_revision"] for r in promotes] == [None, None]  # none / no read
    assert rolled.inputs["expected_revision"] == 2
