"""Serving reports which version answered each request, in batches (for play 5 and canaries).

A batch is a JSON array or NDJSON (one object per line). It is all or nothing: the first bad
record is named by its index and nothing of the batch is stored. Request ids already stored
are skipped, so a batch retried after a timeout stores nothing twice.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from core.commands import AttributionIn
from core.errors import InvalidInput
from core.plays.attribute import attribute

from .access import Principal
from .context import ApiContext
from .errors import UnsupportedMediaType
from .schemas import AttributedOut

NDJSON = {"application/x-ndjson", "application/ndjson", "application/jsonl",
          "application/x-jsonlines", "application/jsonlines"}
RECORD_SCHEMA = AttributionIn.model_json_schema()
REQUEST_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": RECORD_SCHEMA}},
    "application/x-ndjson": {"schema": {"type": "string",
                                        "description": "one attribution object per line"}},
}}


def parse_batch(body: bytes, content_type: str) -> list[Any]:
    """The records of a batch, or InvalidInput naming the first one that is not an object."""
    media = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("body", "is not UTF-8") from exc
    if media == "application/json":
        try:
            records = json.loads(text)
        except ValueError as exc:
            raise InvalidInput("body", f"not JSON: {exc}",
                               hint="nothing of this batch was stored") from exc
        if not isinstance(records, list):
            raise InvalidInput("body", "must be a JSON array of attribution records",
                               hint="or send NDJSON with Content-Type: application/x-ndjson")
    elif media in NDJSON:
        records = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise InvalidInput(f"records[{len(records)}]", f"not JSON: {exc}",
                                   hint="nothing of this batch was stored") from exc
    else:
        raise UnsupportedMediaType(
            f"Content-Type {media or '(none)'} is not a batch format",
            hint="send application/json (an array) or application/x-ndjson (one per line)")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInput(f"records[{i}]", "must be a JSON object",
                               hint="nothing of this batch was stored")
    return records


def router(api: ApiContext) -> APIRouter:
    r = api.router("attributions")

    @r.post("/attributions", response_model=AttributedOut,
            openapi_extra={"requestBody": REQUEST_BODY})
    async def ingest(request: Request,
                     who: Annotated[Principal, Depends(api.require("attribute"))]
                     ) -> dict[str, int]:
        """Store a batch of attribution records (fields: request_id, model, version,
        served_at, latency_ms, error, feedback). A token limited to some models stores
        nothing of a batch naming another."""
        records = parse_batch(await request.body(), request.headers.get("content-type", ""))
        who.cover(*{str(r.get("model")) for r in records if r.get("model") is not None})
        result = await run_in_threadpool(attribute, records, api.app.ctx)
        api.metrics.count_attributions(result.received, result.stored)
        return {"received": result.received, "stored": result.stored,
                "duplicates": result.duplicates}

    return r
