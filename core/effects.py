"""Which request the work in this thread does, so its first committed effect is remembered
with the request's Idempotency-Key in the same transaction (storage/uow.py reads it at
commit). A retry after a lost COMMIT then finds the effect and does not act again.

Set by the HTTP API around a request that carries a key, and by the Slack inbox around a
request's work (scope SLACK); None everywhere else.
"""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("playbook_request_id", default=None)
"""The id of the request this thread works for (an HTTP request's X-Request-ID, a Slack
request's trigger or event id): on every log line and on the play runs it starts."""

SLACK = "slack"  # the scope of a Slack request's key (its inbox entry), beside API token ids

REQUEST_KEY: ContextVar[tuple[str, str] | None] = ContextVar("playbook_request_key",
                                                            default=None)
