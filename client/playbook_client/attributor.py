"""`Attributor`: which version answered each request, sent to Playbook off the request path.

`record()` puts one record in a bounded in-memory queue and returns: it never blocks and never
raises. A background thread sends batches (NDJSON, `POST /v1/attributions`) with one
Idempotency-Key per batch, kept across its retries, so a batch whose answer was lost is not
stored twice. While Playbook is away the batch in hand is retried with backoff and new records
wait in the queue; what does not fit is dropped and counted. `close()` (also run at interpreter
exit) sends what is left, for at most `close_timeout_s`.

Counts: `recorded` = `delivered` + `dropped` + what is still queued or in flight; after
`close()`, nothing is in flight.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from playbook_client._http import client

log = logging.getLogger("playbook_client")
RETRY = {408, 409, 425, 429, 500, 502, 503, 504}  # 409: the same key still in flight


class Attributor:
    def __init__(self, server: str, token: str, *, max_queue: int = 10_000,
                 batch_size: int = 500, flush_s: float = 1.0, timeout_s: float = 10.0,
                 close_timeout_s: float = 5.0) -> None:
        self._http = client(server, token, timeout_s)
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._batch_size = batch_size
        self._flush_s = flush_s
        self._close_timeout_s = close_timeout_s
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._deadline = float("inf")  # set by close(): when to give up on what is left
        self.recorded = 0
        self.delivered = 0
        self.dropped = 0
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="playbook-attributor",
                                        daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(self, request_id: str, model: str, version: str, *,
               latency_ms: float | None = None, error: bool = False,
               served_at: datetime | None = None) -> bool:
        """Queue one record; False when it had to be dropped (the queue was full or closed)."""
        try:
            item: dict[str, Any] = {
                "request_id": str(request_id), "model": model, "version": version,
                "served_at": (served_at or datetime.now(UTC)).isoformat(),
                "error": bool(error)}
            if latency_ms is not None:
                item["latency_ms"] = float(latency_ms)
            with self._lock:
                self.recorded += 1
            if self._closing.is_set():
                raise queue.Full
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            self._count_dropped(1)
            return False
        except Exception:  # never in the caller's way
            self._count_dropped(1)
            log.exception("playbook_client: could not queue an attribution")
            return False

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"recorded": self.recorded, "delivered": self.delivered,
                    "dropped": self.dropped, "queued": self._queue.qsize()}

    def close(self) -> None:
        """Send what is queued (for at most close_timeout_s), then stop."""
        if self._closing.is_set():
            return
        self._deadline = time.monotonic() + self._close_timeout_s
        self._closing.set()
        atexit.unregister(self.close)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(self._close_timeout_s + 5)
        self._http.close()

    def __enter__(self) -> Attributor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the background thread ---------------------------------------------------------

    def _count_dropped(self, n: int) -> None:
        with self._lock:
            self.dropped += n

    def _take(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        until = time.monotonic() + self._flush_s
        while len(batch) < self._batch_size:
            wait = until - time.monotonic()
            if self._closing.is_set():
                wait = 0
            try:
                batch.append(self._queue.get(timeout=max(wait, 0)) if wait > 0
                             else self._queue.get_nowait())
            except queue.Empty:
                if batch or self._closing.is_set():
                    break
                until = time.monotonic() + self._flush_s
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch:
                self._send(batch)
            if self._closing.is_set() and self._queue.empty():
                return
            if time.monotonic() > self._deadline:  # closing and out of time: drop the rest
                left = 0
                while True:
                    try:
                        self._queue.get_nowait()
                        left += 1
                    except queue.Empty:
                        break
                self._count_dropped(left)
                return

    def _send(self, batch: list[dict[str, Any]]) -> None:
        body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in batch).encode()
        headers = {"Content-Type": "application/x-ndjson", "Idempotency-Key": uuid.uuid4().hex}
        delay = 0.2
        while True:
            try:
                answer = self._http.post("/v1/attributions", content=body, headers=headers)
                if answer.status_code < 300:
                    with self._lock:
                        self.delivered += len(batch)
                    if self._warned:
                        self._warned = False
                        log.warning("Playbook takes attributions again")
                    return
                if answer.status_code not in RETRY:
                    log.error("Playbook refused a batch of %d attributions (%d): %s; dropped",
                              len(batch), answer.status_code, answer.text[:300])
                    self._count_dropped(len(batch))
                    return
                problem = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                problem = str(exc) or type(exc).__name__
            if not self._warned:
                self._warned = True
                log.warning("Playbook is unreachable (%s); holding attributions, trying again",
                            problem)
            if time.monotonic() + delay > self._deadline:
                self._count_dropped(len(batch))
                return
            if self._closing.is_set():  # closing: wait out the backoff, within the deadline
                time.sleep(min(delay, max(self._deadline - time.monotonic(), 0)))
            else:
                self._closing.wait(delay)
            delay = min(delay * 2, 5.0)
