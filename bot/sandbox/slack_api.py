"""The Slack Web API as the bot meets it, answered from the sandbox workspace.

Mounted at /sandbox/slack/: `api/{method}` (form, query or JSON bodies, as slack_sdk sends
them; the bot token in `Authorization`), `response/{key}` (response_url posts),
`upload/{file_id}` (step two of files.uploadV2) and `files/{file_id}` (the page reads uploads).
Answers have Slack's shapes: `{"ok": true, ...}` or `{"ok": false, "error": "code"}` with 200.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.sandbox.records import BOT_USER, TEAM_DOMAIN, TEAM_ID, SlackError
from bot.sandbox.workspace import Workspace
from bot.shared.slack_rules import message_problem, view_problem

PREFIX = "/sandbox/slack"
Params = dict[str, Any]
NO_MORE = {"response_metadata": {"next_cursor": ""}}


async def read_params(request: Request) -> Params:
    """Query string, then the body: JSON or form-encoded; JSON-in-a-field decoded."""
    params: Params = dict(request.query_params)
    raw = await request.body()
    kind = request.headers.get("content-type", "")
    if raw and "json" in kind:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise SlackError("invalid_json", "the body is not JSON") from exc
        if not isinstance(body, dict):
            raise SlackError("invalid_json", "the body must be a JSON object")
        params.update(body)
    elif raw:
        params.update({k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True)
                       .items()})
    for key in ("blocks", "view", "files"):
        if isinstance(params.get(key), str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except ValueError as exc:
                raise SlackError("invalid_arguments", f"{key} is not JSON") from exc
    return params


def _text(p: Params) -> tuple[str, list[dict[str, Any]] | None]:
    """A message's text and blocks, refused as Slack refuses them (bot.shared.slack_rules)."""
    blocks = p.get("blocks")
    problem = message_problem(p.get("text"), blocks)
    if problem:
        raise SlackError(*problem)
    return str(p.get("text") or ""), blocks if isinstance(blocks, list) else None


def _required(p: Params, key: str) -> str:
    value = p.get(key)
    if not value:
        raise SlackError("invalid_arguments", f"{key} is required")
    return str(value)


class WebApi:
    """One handler per Web API method the bot calls."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.methods: dict[str, Callable[[Params], Params]] = {
            "auth.test": self.auth_test, "chat.postMessage": self.post_message,
            "chat.update": self.update, "chat.postEphemeral": self.post_ephemeral,
            "conversations.members": self.members, "conversations.list": self.list_channels,
            "conversations.info": self.info,
            "usergroups.users.list": self.group_users, "usergroups.list": self.groups,
            "views.publish": self.publish, "files.getUploadURLExternal": self.upload_url,
            "files.completeUploadExternal": self.complete_upload}

    def auth_test(self, _: Params) -> Params:
        return {"url": f"https://{TEAM_DOMAIN}.slack.com/", "team": self.ws.name,
                "user": "playbook", "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": "B0BOT"}

    def post_message(self, p: Params) -> Params:
        text, blocks = _text(p)
        msg = self.ws.post(_required(p, "channel"), user=BOT_USER, text=text, blocks=blocks,
                           thread_ts=p.get("thread_ts") or None)
        return {"channel": msg.channel, "ts": msg.ts,
                "message": {"text": msg.text, "blocks": msg.blocks, "ts": msg.ts}}

    def update(self, p: Params) -> Params:
        text, blocks = _text(p)
        msg = self.ws.update(_required(p, "channel"), _required(p, "ts"), text=text,
                             blocks=blocks)
        return {"channel": msg.channel, "ts": msg.ts, "text": msg.text}

    def post_ephemeral(self, p: Params) -> Params:
        text, blocks = _text(p)
        msg = self.ws.post_ephemeral(_required(p, "channel"), to=_required(p, "user"),
                                     text=text, blocks=blocks,
                                     thread_ts=p.get("thread_ts") or None)
        return {"message_ts": msg.ts}

    def members(self, p: Params) -> Params:
        return {"members": self.ws.members(_required(p, "channel")), **NO_MORE}

    def info(self, p: Params) -> Params:
        channel = self.ws.channel(_required(p, "channel"))
        return {"channel": {"id": channel.id, "name": channel.name, "is_im": channel.is_dm,
                            "is_private": channel.is_dm,
                            "is_member": BOT_USER in channel.members or not channel.is_dm}}

    def list_channels(self, _: Params) -> Params:
        found = [{"id": c.id, "name": c.name, "is_channel": True, "is_member": True,
                  "is_archived": False, "purpose": {"value": c.purpose}}
                 for c in self.ws.public_channels()]
        return {"channels": found, **NO_MORE}

    def group_users(self, p: Params) -> Params:
        return {"users": self.ws.group_users(_required(p, "usergroup"))}

    def groups(self, _: Params) -> Params:
        return {"usergroups": [{"id": i, "handle": h, "name": h}
                               for h, i in self.ws.handles.items()]}

    def publish(self, p: Params) -> Params:
        view = p.get("view")
        problem = view_problem(view)
        if problem or not isinstance(view, dict):
            raise SlackError(*(problem or ("invalid_arguments", "view must be an object")))
        return {"view": self.ws.publish_home(_required(p, "user_id"), view)}

    def upload_url(self, p: Params) -> Params:
        stored = self.ws.new_file(_required(p, "filename"))
        return {"file_id": stored.id, "upload_url": f"{PREFIX}/upload/{stored.id}"}

    def complete_upload(self, p: Params) -> Params:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments", "files must be a JSON list of {id, title}")
        done = self.ws.share_files([(str(f["id"]), f.get("title")) for f in files],
                                   channel=p.get("channel_id") or p.get("channels") or None,
                                   comment=p.get("initial_comment") or None,
                                   thread_ts=p.get("thread_ts") or None)
        return {"files": [{"id": f.id, "name": f.name, "title": f.title} for f in done]}


def build_router(ws: Workspace, token: str) -> APIRouter:
    api = WebApi(ws)
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.api_route("/api/{method}", methods=["GET", "POST"])
    async def web_api(method: str, request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        handler = api.methods.get(method)
        try:
            if not given:
                raise SlackError("not_authed")
            if given != token:
                raise SlackError("invalid_auth")
            if handler is None:
                raise SlackError("unknown_method", f"the sandbox does not answer {method}")
            answer = {"ok": True, **handler(await read_params(request))}
        except SlackError as exc:
            answer = {"ok": False, "error": exc.error, "detail": str(exc)}
        if method == "files.getUploadURLExternal" and answer.get("ok"):
            answer["upload_url"] = str(request.base_url).rstrip("/") + answer["upload_url"]
        return JSONResponse(answer)

    @router.post("/response/{key}")
    async def response_url(key: str, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise SlackError("invalid_json", "the body must be a JSON object")
            if not body.get("delete_original"):
                _text(body)  # what chat.* would refuse, a response_url refuses too
            ws.respond(key, body)
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        except SlackError as exc:
            status = 404 if exc.error == "expired_url" else 400
            return PlainTextResponse(exc.error, status_code=status)
        return PlainTextResponse("ok")

    @router.post("/upload/{file_id}")
    async def upload(file_id: str, request: Request) -> Response:
        try:
            ws.upload(file_id, await request.body())
        except SlackError as exc:
            return PlainTextResponse(exc.error, status_code=404)
        return PlainTextResponse("OK - 1")

    @router.get("/files/{file_id}")
    async def file_content(file_id: str) -> Response:
        stored = ws.files.get(file_id)
        if stored is None:
            return PlainTextResponse(f"no file {file_id}", status_code=404)
        kind = "application/json" if stored.name.endswith(".json") else "text/plain"
        return Response(stored.content, media_type=f"{kind}; charset=utf-8")

    return router
