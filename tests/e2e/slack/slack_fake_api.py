"""A local stand-in for the Slack Web API: records every call so tests assert what was posted.

Answers the methods the app uses (chat.*, conversations.*, usergroups.*, views.publish, the
three steps of files.uploadV2, auth.test) and response_url posts, on 127.0.0.1 at a port
chosen at run time. Failures can be queued per method: an `error` answer (channel_not_found)
or HTTP 429 with Retry-After, as Slack does.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from testkit.waiting import LIMIT_S

from bot.shared.slack_rules import message_problem, view_problem

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str  # a Web API method, "response" (a response_url post) or "upload"
    params: dict[str, Any]
    key: str = ""  # the response_url token (the request's trigger_id), or the file id
    token: str | None = None
    refused: str | None = None  # the error Slack answered instead (ratelimited, ...)


@dataclass
class Failure:
    error: str
    status: int = 200
    retry_after: int | None = None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.members: dict[str, list[str]] = {}  # channel id -> user ids
        self.channels: dict[str, str] = {}  # channel name -> id
        self.page_size = 2  # lists come in pages this small, as a cursor test needs
        # Channels the bot is not in (by id): Slack refuses uploads there (not_in_channel),
        # and posts too unless the channel is public (chat:write.public): channel_not_found.
        self.bot_left: set[str] = set()
        self.groups: dict[str, list[str]] = {}  # user group id -> user ids
        self.handles: dict[str, str] = {}  # user group handle -> id
        self.identity: dict[str, Any] = {}  # what auth.test answers besides team T1's bot
        self._failures: dict[str, list[Failure]] = {}
        self._limited_until: dict[str, float] = {}  # method -> when Retry-After has passed
        self._window: tuple[int, frozenset[str]] | None = None  # limit()'s, until lift()
        self._ts = itertools.count(1)
        self._hold: set[str] = set()  # methods whose next call is held, unanswered
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    # -- set-up ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/response/{key}"

    def fail(self, method: str, error: str, times: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend([Failure(error)] * times)

    def outage(self, method: str, times: int = 1, status: int = 503) -> None:
        """Answer the next `times` calls of `method` as Slack does when it is down: HTTP 503
        (or `status`: 500, Slack's internal_error)."""
        error = "internal_error" if status == 500 else "service_unavailable"
        with self._lock:
            self._failures.setdefault(method, []).extend([Failure(error, status)] * times)

    def recover(self, method: str) -> None:
        """Forget the failures still queued for `method`: it answers from now on."""
        with self._lock:
            self._failures.pop(method, None)

    def ratelimit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [Failure("ratelimited", 429, retry_after)] * times)

    def limit(self, retry_after: int, *methods: str) -> None:
        """Answer every call of `methods` (of every Web API method, if none are named) 429
        with `Retry-After: retry_after` until `lift()`: a rate-limit window that lasts as long
        as the test says, however long the callers wait."""
        with self._lock:
            self._window = (retry_after, frozenset(methods))

    def lift(self) -> None:
        with self._lock:
            self._window = None

    @property
    def limiting(self) -> bool:
        with self._lock:
            return self._window is not None

    def hold(self, method: str) -> None:
        """Hold the next call of `method` unanswered (recorded as refused "held") until
        `drop_held()`: a caller killed meanwhile never learns of it, and Slack never did it."""
        with self._lock:
            self._hold.add(method)

    def drop_held(self) -> None:
        """Close the held call's connection without doing what it asked (as Slack would
        when the client is gone before the request was processed)."""
        self._released.set()

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- assertions -----------------------------------------------------------------------

    def called(self, method: str, **match: Any) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method
                    and all(c.params.get(k) == v for k, v in match.items())]

    def responses(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c.params for c in self.calls if c.method == "response" and c.key == key]

    def wait_for(self, what: Callable[[], Any], timeout: float = LIMIT_S) -> Any:
        """Wait until `what()` is truthy (it is re-checked whenever a call arrives)."""
        deadline = time.monotonic() + timeout
        while True:
            found = what()
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting; calls so far: {self.summary()}")
            with self._changed:
                self._changed.wait(min(left, 0.1))

    def summary(self) -> list[str]:
        with self._lock:
            return [f"{c.method}:{c.key or c.params.get('channel', '')}" for c in self.calls]

    # -- the server -----------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _failure(self, method: str) -> Failure | None:
        """A queued failure, or 429 for a call made before an earlier Retry-After had passed
        (Slack limits the method, not the single call)."""
        with self._lock:
            if self._window is not None and (not self._window[1] or method in self._window[1]):
                return Failure("ratelimited", 429, self._window[0])
            now = time.monotonic()
            until = self._limited_until.get(method, 0.0)
            if now < until:
                return Failure("ratelimited", 429, max(1, math.ceil(until - now)))
            queue = self._failures.get(method)
            failure = queue.pop(0) if queue else None
            if failure is not None and failure.retry_after is not None:
                self._limited_until[method] = now + failure.retry_after
            return failure

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _channel_id(self, ref: str) -> str:
        return self.channels.get(ref.lstrip("#"), ref.lstrip("#"))

    def _page(self, items: list[Any], p: dict[str, Any]) -> tuple[list[Any], str]:
        """One page, as Slack pages lists: at most `limit` (and at most this stand-in's
        small `page_size`, so a caller that reads only the first page misses the rest)."""
        start = int(str(p.get("cursor") or "0").removeprefix("next:") or 0)
        size = min(int(p.get("limit") or self.page_size), self.page_size)
        end = start + size
        return items[start:end], (f"next:{end}" if end < len(items) else "")

    @staticmethod
    def refusal(method: str, p: dict[str, Any]) -> tuple[str, str] | None:
        """Slack's own refusal of what was sent (bot.shared.slack_rules), or None."""
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            return message_problem(p.get("text"), p.get("blocks"))
        if method == "views.publish":
            return view_problem(p.get("view"))
        return None

    def answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test",
                    "user": "playbook", "team_id": "T1", "user_id": BOT_USER, "bot_id": "B1",
                    **self.identity}
        if method == "chat.postMessage":
            channel = self._channel_id(str(p.get("channel", "")))
            if channel in self.bot_left and not channel.startswith("C"):
                return {"ok": False, "error": "channel_not_found"}  # private, DM: unseen
            return {"ok": True, "channel": channel, "ts": self._next_ts(),
                    "message": {"text": p.get("text"), "blocks": p.get("blocks")}}
        if method == "chat.update":
            return {"ok": True, "channel": p.get("channel"), "ts": p.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.members":
            members = self.members.get(str(p.get("channel")))
            if members is None:
                return {"ok": False, "error": "channel_not_found"}
            page, cursor = self._page(members, p)
            return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}
        if method == "conversations.info":
            channel = str(p.get("channel"))
            private = not channel.startswith("C")
            if channel in self.bot_left and private:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel, "is_private": private,
                                            "is_member": channel not in self.bot_left}}
        if method == "conversations.list":
            page, cursor = self._page([{"id": i, "name": n} for n, i in self.channels.items()],
                                      p)
            return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}
        if method == "usergroups.users.list":
            users = self.groups.get(str(p.get("usergroup")))
            if users is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": users}
        if method == "usergroups.list":
            return {"ok": True, "usergroups": [{"id": i, "handle": h, "name": h}
                                               for h, i in self.handles.items()]}
        if method == "views.publish":
            return {"ok": True, "view": p.get("view")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            if self._channel_id(str(p.get("channel_id") or "")) in self.bot_left:
                return {"ok": False, "error": "not_in_channel"}  # even in a public channel
            files = p.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                          for f in files]}
        if method == "apps.connections.open":  # no WebSocket here: socket mode stops at this
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None
                       ) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _params(self, raw: bytes) -> dict[str, Any]:
                url = urlparse(self.path)
                params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
                kind = self.headers.get("Content-Type", "")
                if raw and "json" in kind:
                    params.update(json.loads(raw))
                elif raw and "form" in kind:
                    params.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                for k in ("blocks", "view"):
                    if isinstance(params.get(k), str):
                        params[k] = json.loads(params[k])
                return params

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlparse(self.path).path
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if path.startswith("/response/"):
                    body = json.loads(raw or b"{}")
                    call = Call("response", body, key=path.rsplit("/", 1)[1])
                    problem = message_problem(body.get("text"), body.get("blocks"))
                    call.refused = problem[0] if problem else None
                    fake._record(call)
                    if problem:  # as Slack: the response_url refuses what chat.* would
                        return self._reply(400, {"ok": False, "error": problem[0]})
                    return self._reply(200, b"ok")
                if path.startswith("/upload/"):
                    fake._record(Call("upload", {"content": raw.decode(errors="replace")},
                                      key=path.rsplit("/", 1)[1]))
                    return self._reply(200, b"OK")
                method = path.removeprefix("/api/")
                params = self._params(raw)
                call = Call(method, params, token=token or None)
                with fake._lock:
                    held = method in fake._hold
                    fake._hold.discard(method)
                if held:
                    call.refused = "held"
                    fake._record(call)
                    fake._released.wait(LIMIT_S)
                    self.close_connection = True
                    return None
                failure = fake._failure(method)
                if failure is not None:
                    call.refused = failure.error
                    fake._record(call)
                    extra = {"Retry-After": str(failure.retry_after)} \
                        if failure.retry_after is not None else None
                    return self._reply(failure.status, {"ok": False, "error": failure.error},
                                       extra)
                problem = fake.refusal(method, params)  # what Slack itself would refuse
                answer = fake.answer(method, params) if problem is None else {
                    "ok": False, "error": problem[0],
                    "response_metadata": {"messages": [problem[1]]}}
                call.refused = None if answer.get("ok") else str(answer.get("error"))
                fake._record(call)
                return self._reply(200, answer)

        return Handler
