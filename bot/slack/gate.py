"""What stands before Bolt at /slack/events: nothing from a request has any effect (no play,
no reply to its `response_url`) until its size and Slack's signature are checked.

The size limit comes first, before the body is read to its end; then the timestamp and the
signature, where any malformed header is a 401 (never a 500, which Bolt's error path would
turn into a reply to the unverified body's `response_url`).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping

from fastapi import Request, Response
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("playbook.slack")
MAX_BODY_BYTES = 1024 * 1024  # Slack's own payloads are far smaller
MAX_AGE_S = 5 * 60  # Slack's advice: refuse requests older than five minutes (replays)


class TooLarge(Exception):
    pass


async def read_bounded(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, or TooLarge as soon as it is known to exceed `limit` (by its declared
    length, or while it streams in)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isascii() or not declared.isdigit()
                                 or int(declared) > limit):
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


def signed_by_slack(secret: str, body: bytes, headers: Mapping[str, str],
                    now: Callable[[], float] = time.time) -> bool:
    """True only for a well-formed, fresh, correctly signed request."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if not (signature.isascii() and signature.startswith("v0=") and len(signature) == 67):
        return False
    if abs(now() - int(timestamp)) > MAX_AGE_S:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    expected = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=text)
    return expected is not None and hmac.compare_digest(expected, signature)


async def checked(request: Request, secret: str) -> bytes | Response:
    """The verified body, or the answer to give instead (413 or 401, with no other effect)."""
    try:
        body = await read_bounded(request)
    except TooLarge:
        return Response("request body too large", status_code=413)
    if not signed_by_slack(secret, body, request.headers):
        log.info("refused an unsigned, stale or malformed request to /slack/events")
        return Response("invalid request signature", status_code=401)
    return body
