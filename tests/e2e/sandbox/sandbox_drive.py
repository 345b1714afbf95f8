"""Driving a sandbox over HTTP as its page does: who is who, commands, clicks, waiting for
what the bot says, and the registry read back with the plain CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from sandbox_process import SandboxServer
from testkit.waiting import until

YOU, ANA, BEN, OLLY = "U0YOU", "U0ANA", "U0BEN", "U0OUT"
RELEASES, INCIDENTS = "#releases", "#incidents"
Msg = dict[str, Any]


def channel_id(s: SandboxServer, name: str) -> str:
    found = [c["id"] for c in s.state(YOU)["channels"] if c["name"] == name.lstrip("#")]
    assert found, f"no channel {name}"
    return str(found[0])


def run(s: SandboxServer, user: str, channel: str, text: str) -> dict[str, Any]:
    answer = s.http.post("/sandbox/command", json={"user": user, "channel": channel,
                                                   "text": text})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["ok"] and body["status"] == 200, body
    return body


def click(s: SandboxServer, user: str, msg: Msg, action_id: str) -> httpx.Response:
    for block in msg["blocks"] or []:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == action_id:
                return s.http.post("/sandbox/action", json={
                    "user": user, "channel": msg["channel"], "message_ts": msg["ts"],
                    "action_id": action_id, "block_id": block.get("block_id", ""),
                    "value": element.get("value", "")})
    raise AssertionError(f"no {action_id} button in {msg['text']!r}")


def wait_for(s: SandboxServer, user: str, found: Callable[[list[Msg]], Any]) -> Any:
    """Wait until `found(messages)` is truthy in the user's view; answers it."""
    seen: list[Msg] = []

    def check() -> Any:
        seen[:] = s.state(user)["messages"]
        return found(seen)

    return until(check, lambda: "it in these messages: " + json.dumps(
        [(m["user"], m["ephemeral"], m["text"][:80]) for m in seen], indent=1))


def one(messages: list[Msg], *, says: str, ephemeral: bool | None = None,
        user: str = "UBOT") -> Msg | None:
    hits = [m for m in messages if says in m["text"] and m["user"] == user
            and (ephemeral is None or m["ephemeral"] == ephemeral)]
    return hits[-1] if hits else None


def seeded(s: SandboxServer, model: str) -> list[str]:
    """Short ids of the seeded versions, newest first, from the plain CLI."""
    done = s.playbook("--json", "versions", model)
    assert done.returncode == 0, done.stderr
    return [v["short"] for v in json.loads(done.stdout)]


def production(s: SandboxServer, model: str) -> str:
    done = s.playbook("--json", "tags", model)
    assert done.returncode == 0, done.stderr
    return str(next(t["version"] for t in json.loads(done.stdout) if t["tag"] == "production"))


def tips_of(s: SandboxServer, channel: str) -> list[str]:
    lines: list[str] = s.state(YOU)["tips"].get(channel_id(s, channel), [])
    return lines
