"""Token limits as an operator sets them with `playbook token create` and callers meet them
over HTTP: an identity of its own (approvals are recorded under it), a list of models, an
expiry, and `token list` showing when each was last used."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from api_harness import Api, error

from bot.cli.main import main


def local(api: Api, capsys: pytest.CaptureFixture[str], *argv: str, ok: bool = True) -> Any:
    settings = api.app.settings
    code = main(["--config", str(settings.config_path), "--home", str(settings.home),
                 "--database", settings.database_url, "--as", "admin", "--json", *argv])
    out, err = capsys.readouterr()
    assert code == (0 if ok else 1), err or out
    return json.loads(out) if ok else err.strip()


def client(api: Api, secret: str) -> httpx.Client:
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {secret}"},
                        timeout=30)


def test_a_token_acts_as_its_user_for_approvals(api: Api,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    made = local(api, capsys, "token", "create", "--name", "ben-laptop", "--scope", "register",
                 "--user", "ben")
    assert made["user"] == "ben" and made["name"] == "ben-laptop"
    r1 = api.register("risky", "z" * 30)
    asked = api.call("ci").post("/v1/models/risky/promote", json={"version": r1["short"]})
    request = asked.json()["request"]["id"]
    with client(api, made["token"]) as ben:
        done = ben.post(f"/v1/approvals/{request}/approve", json={})
    assert done.status_code == 200, done.text
    assert done.json()["approvals"][0]["approver"] == "ben"  # not "ben-laptop"
    assert done.json()["event"]["approvers"] == ["ben"]


def test_a_token_limited_to_models_touches_only_those(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    made = local(api, capsys, "token", "create", "--name", "chat-ci", "--scope", "admin",
                 "--model", "chat")
    assert made["models"] == ["chat"]
    unknown = local(api, capsys, "token", "create", "--name", "x", "--scope", "register",
                    "--model", "nope", ok=False)
    assert "not declared in playbook.toml: nope" in unknown and "chat" in unknown
    before = local(api, capsys, "token", "list")

    r1 = api.register("risky", "z" * 30)
    asked = api.call("ci").post("/v1/models/risky/promote", json={"version": r1["short"]})
    request = asked.json()["request"]["id"]
    body = {"components": {"prompt": "y" * 30}, "owner": "ana", "reason": "r", "root": True}
    with client(api, made["token"]) as chat_ci:
        assert chat_ci.post("/v1/models/chat/versions", json=body).status_code == 201
        refused = error(chat_ci.post("/v1/models/risky/versions", json=body), 403, "FORBIDDEN")
        assert "does not cover model(s) risky" in refused["message"]
        assert "--model risky" in refused["hint"]
        error(chat_ci.get("/v1/models/risky/tags/production"), 403, "FORBIDDEN")
        error(chat_ci.get(f"/v1/approvals/{request}"), 403, "FORBIDDEN")
        error(chat_ci.post(f"/v1/approvals/{request}/reject", json={}), 403, "FORBIDDEN")
        error(chat_ci.get("/v1/gate", params={"model": "risky", "version": r1["id"]}), 403,
              "FORBIDDEN")
        batch = [{"request_id": "q-1", "model": "chat", "version": r1["id"]},
                 {"request_id": "q-2", "model": "risky", "version": r1["id"]}]
        error(chat_ci.post("/v1/attributions", json=batch), 403, "FORBIDDEN")
    pending = api.call("auditor").get(f"/v1/approvals/{request}").json()
    assert pending["status"] == "pending"  # the refused reject changed nothing
    assert [t["name"] for t in local(api, capsys, "token", "list")] == \
        [t["name"] for t in before]


def test_a_token_expires_and_list_shows_its_last_use(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI dates tokens by the machine's clock; the server judges them by its own (the
    test's), which is set to explicit instants around the token's expiry."""
    made = local(api, capsys, "token", "create", "--name", "short", "--scope", "resolve",
                 "--expires", "12h")
    expires = datetime.fromisoformat(made["expires_at"])
    assert expires - datetime.fromisoformat(made["created_at"]) == timedelta(hours=12)
    default = local(api, capsys, "token", "create", "--name", "dflt", "--scope", "resolve")
    assert datetime.fromisoformat(default["expires_at"]) \
        - datetime.fromisoformat(default["created_at"]) == timedelta(days=90)
    never = local(api, capsys, "token", "create", "--name", "forever", "--scope", "resolve",
                  "--expires", "never")
    assert never["expires_at"] is None
    for bad in ("yesterday", "0d", "2020-01-01", "99999d"):
        err = local(api, capsys, "token", "create", "--name", "bad", "--scope", "resolve",
                    "--expires", bad, ok=False)
        assert "expires" in err, err

    listed = {t["name"]: t for t in local(api, capsys, "token", "list")}
    assert listed["short"]["last_used_at"] is None
    api.clock.set(expires - timedelta(hours=1, seconds=30))
    with client(api, made["token"]) as short:
        assert short.get("/v1/models/chat/route").status_code in (200, 404)
        listed = {t["name"]: t for t in local(api, capsys, "token", "list")}
        used = api.clock.now().replace(second=0, microsecond=0)
        assert listed["short"]["last_used_at"] == used.isoformat()
        assert listed["forever"]["last_used_at"] is None

        api.clock.set(expires)
        api.ticks.advance(1)  # past the server's token cache too
        expired = error(short.get("/v1/models/chat/route"), 401, "UNAUTHENTICATED")
        assert "'short' expired at" in expired["message"] and "token create" in expired["hint"]
    listed = {t["name"]: t for t in local(api, capsys, "token", "list")}
    assert listed["short"]["last_used_at"] == used.isoformat()  # a refused call is no use
