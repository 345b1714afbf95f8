"""A COMMIT whose answer is lost (the database connection drops just after the server took it)
and then the documented retry: the change happens once, and neither answer is a 5xx. The
Idempotency-Key and what its request changed are written in the change's own transaction.
Staged on SQLite and PostgreSQL by failing the connection right after that COMMIT."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from api_harness import Api, error
from sqlalchemy import Connection, event
from sqlalchemy.exc import OperationalError


class LoseNextEffectCommit:
    """Arms one failure: the next transaction that opens an incident (a rollback's change)
    commits on the server, and then its client sees the connection drop."""

    def __init__(self) -> None:
        self.armed = False
        self.fired = 0
        self._pending = threading.local()

    def statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.armed and statement.lstrip().upper().startswith("INSERT INTO INCIDENTS"):
            self._pending.session_effect = True

    def commit(self, conn: Connection) -> None:
        """Before SQLAlchemy's COMMIT: commit on the server here, then fail as a dropped
        connection would, so the caller cannot tell whether it committed."""
        if getattr(self._pending, "session_effect", False):
            self._pending.session_effect = False
            self.armed = False
            self.fired += 1
            conn.connection.driver_connection.commit()  # type: ignore[union-attr]
            raise OperationalError("COMMIT", {}, Exception(
                "server closed the connection unexpectedly"))


@pytest.fixture
def lose(api: Api) -> Iterator[LoseNextEffectCommit]:
    staged = LoseNextEffectCommit()
    event.listen(api.app.engine, "before_cursor_execute", staged.statement)
    event.listen(api.app.engine, "commit", staged.commit)
    yield staged
    event.remove(api.app.engine, "commit", staged.commit)
    event.remove(api.app.engine, "before_cursor_execute", staged.statement)


def test_a_rollback_whose_commit_answer_was_lost_is_applied_once(
        api: Api, lose: LoseNextEffectCommit) -> None:
    v0 = api.register("chat", "x" * 30)
    v1 = api.register("chat", "x" * 40, v0["short"])
    v2 = api.register("chat", "x" * 60, v1["short"])
    ci = api.call("ci")
    for v in (v0, v1, v2):
        assert ci.post("/v1/models/chat/promote", json={"version": v["short"]}).status_code \
            == 200
    key = {"Idempotency-Key": "rollback-1"}

    lose.armed = True
    first = ci.post("/v1/models/chat/rollback", json={"symptom": "empty"}, headers=key)
    assert lose.fired == 1
    said = error(first, 409, "ALREADY_APPLIED")  # not 503: the move did commit
    assert "rollback moved chat production" in said["message"]
    assert v1["id"][:12] in said["message"]
    production = api.call("serving").get("/v1/models/chat/tags/production").json()
    assert production["version"] == v1["id"] and production["revision"] == 4

    again = ci.post("/v1/models/chat/rollback", json={"symptom": "empty"}, headers=key)
    assert error(again, 409, "ALREADY_APPLIED")["message"] == said["message"]
    production = api.call("serving").get("/v1/models/chat/tags/production").json()
    assert production["version"] == v1["id"]  # moved once, not on to v0
    assert production["revision"] == 4

