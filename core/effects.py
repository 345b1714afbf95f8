"""Which request the work in this thread does, so its first committed effect is remembered
with the request's Idempotency-Key in the same transaction (storage/uow.py reads it at
commit). A retry after a lost COMMIT then finds the effect and does not act again.

Set by the HTTP API around a request that carries a key; None everywhere else.
"""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_KEY: ContextVar[tuple[str, str] | None] = ContextVar("playbook_request_key",
                                                            default=None)
