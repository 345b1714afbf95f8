"""The workspace's history kept beside the registry, so a restart loses neither.

The registry remembers where each approval card and incident record was posted (channel, ts);
a workspace that forgot its messages on restart would make the next card update fail with
`message_not_found`. So messages, App Home views and files are written to
`<home>/sandbox-workspace.json` shortly after each change (and on stop) and read back at start.
Channels and people are not: they come from playbook.toml every time.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.sandbox.records import Message, StoredFile
from bot.sandbox.workspace import Workspace

log = logging.getLogger("playbook.sandbox")
FILE_NAME = "sandbox-workspace.json"
FORMAT = 1
SETTLE_S = 0.5  # a burst of changes is written once


def dump(ws: Workspace) -> dict[str, Any]:
    with ws.changed:
        return {
            "format": FORMAT, "version": ws.version,
            "dms": [c.id[1:] for c in ws.channels.values() if c.is_dm],
            "messages": [{**asdict(m), "files": [f.id for f in m.files]} for m in ws.messages],
            "homes": ws.homes,
            "files": [{"id": f.id, "name": f.name, "title": f.title,
                       "content": base64.b64encode(f.content).decode()}
                      for f in ws.files.values()]}


def restore(ws: Workspace, data: dict[str, Any]) -> None:
    """Take back what still fits the workspace (messages of channels and people it has)."""
    if data.get("format") != FORMAT:
        log.warning("sandbox: %s has an unknown format; starting with an empty workspace",
                    FILE_NAME)
        return
    with ws.changed:
        for user in data.get("dms", []):
            if user in ws.users:
                ws.channel(user)
        files = {f["id"]: StoredFile(id=f["id"], name=f["name"], title=f["title"],
                                     content=base64.b64decode(f["content"]))
                 for f in data.get("files", [])}
        ws.files.update(files)
        for raw in data.get("messages", []):
            if raw["channel"] in ws.channels:
                ws.messages.append(Message(**{**raw, "files": [files[i] for i in raw["files"]
                                                                if i in files]}))
        ws.homes.update({u: v for u, v in data.get("homes", {}).items() if u in ws.users})
        ws.version = max(ws.version, int(data.get("version", 0))) + 1


class Keeper:
    """Loads the history at start, then writes it after changes until closed."""

    def __init__(self, ws: Workspace, home: Path) -> None:
        self._ws = ws
        self.path = home / FILE_NAME
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-keeper", daemon=True)
        self._saved = -1

    def load(self) -> bool:
        if not self.path.exists():
            return False
        try:
            restore(self._ws, json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("sandbox: could not read %s (%s); starting with an empty workspace",
                        self.path, exc)
            return False
        self._saved = self._ws.version
        return True

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self._ws.wait_for_change(self._saved, 1.0)
            if seen != self._saved and not self._stop.wait(SETTLE_S):
                self.save()

    def save(self) -> None:
        data = dump(self._ws)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, self.path)
        self._saved = int(data["version"])

    def close(self) -> None:
        """Write what is left; safe to call twice."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._saved != self._ws.version:
            self.save()
