"""Every error the API answers, rendered once: `{"error": {"code", "message", "hint"}}`.

core.errors carry a code; this is the one place that maps codes to HTTP statuses, so a route
never picks a status for a failure itself. Refusals are 409 (the state of the registry says no)
except where the play refused *who* asked (its approver checks), which is 403.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from core.errors import ConfigError, InvalidInput, PlaybookError

log = logging.getLogger("playbook.api")

STATUS_BY_CODE = {
    "INVALID_INPUT": 422,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "AMBIGUOUS": 409,
    "REFUSED": 409,
    "INVALID_STATE": 409,
    "CONFLICT": 409,
    "RESOURCE_ALREADY_EXISTS": 409,
    "TAG_MOVED_MEANWHILE": 409,
    "EVALUATOR_FAILED": 502,
    "STORAGE_FAILED": 503,
    "SCHEMA_NOT_CURRENT": 503,
}
# Steps of the approval play that check the person, not the registry.
IDENTITY_STEPS = {"check approver", "check rejecter"}


class ApiError(PlaybookError):
    """Failures only the HTTP edge can have (credentials, body size, media type)."""

    status = 400


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"
    status = 401


class Forbidden(ApiError):
    code = "FORBIDDEN"
    status = 403


class PayloadTooLarge(ApiError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class UnsupportedMediaType(ApiError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415


class IdempotencyInProgress(ApiError):
    code = "IDEMPOTENCY_IN_PROGRESS"
    status = 409
    retry_after_s: int | None = None  # when asking again may find it done or given up


class AlreadyApplied(ApiError):
    """The request's change committed, but its answer was lost (the database connection
    failed at COMMIT, or the server died before answering): it is never applied twice."""

    code = "ALREADY_APPLIED"
    status = 409


class IdempotencyKeyReused(ApiError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422


def status_of(exc: PlaybookError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, ConfigError):
        # At runtime the config is loaded; what remains is asking for an undeclared model.
        return 422 if exc.problems else 404
    if exc.code == "REFUSED" and exc.step in IDENTITY_STEPS:
        return 403
    return STATUS_BY_CODE.get(exc.code, 400)


def error_json(code: str, message: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": message, "hint": hint}
    detail.update({k: v for k, v in extra.items() if v is not None})
    return {"error": detail}


def _validation(exc: RequestValidationError) -> tuple[str, str]:
    """The first bad field, named as the client wrote it (`owner`, `time`, `records[3]`)."""
    problems = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        problems.append((".".join(loc) or "body", str(e.get("msg", "is invalid"))
                         .removeprefix("Value error, ")))
    if not problems:
        return "body", "is invalid"
    (field, msg), rest = problems[0], problems[1:]
    if rest:
        msg += "; also " + "; ".join(f"{f}: {m}" for f, m in rest[:5])
    return field, msg


def render(exc: BaseException) -> JSONResponse:
    """The response for any exception a route let escape."""
    headers: dict[str, str] = {}
    if isinstance(exc, PlaybookError):
        status = status_of(exc)
        body = error_json(exc.code, exc.message, exc.hint, step=exc.step,
                          field=exc.field if isinstance(exc, InvalidInput) else None)
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, IdempotencyInProgress) and exc.retry_after_s:
            headers["Retry-After"] = str(exc.retry_after_s)
    elif isinstance(exc, RequestValidationError):
        status = 422
        field, msg = _validation(exc)
        body = error_json("INVALID_INPUT", f"{field}: {msg}",
                          "fix that field; /docs shows every route's schema", field=field)
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        body = error_json("HTTP_" + str(status), str(exc.detail))
        headers.update(exc.headers or {})
    else:
        log.exception("unexpected error in the HTTP API", exc_info=exc)
        status = 500
        body = error_json("INTERNAL", f"unexpected {type(exc).__name__}",
                          "this is a bug in Playbook; the server log has the traceback")
    return JSONResponse(body, status_code=status, headers=headers)
