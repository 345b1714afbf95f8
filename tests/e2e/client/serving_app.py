"""A serving process as a team would write it with playbook-client: it answers a steady
stream of requests with whatever version production points at, until told to stop.

    python serving_app.py SERVER TOKEN MODEL STATUS_FILE STOP_FILE CACHE_FILE

Every ~20 requests it writes STATUS_FILE (atomically): requests served, errors met in the
request path, the version now in force, the client's counts. It stops when STOP_FILE exists,
closes the client (sending what is left) and writes the status a last time with "done".
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

from playbook_client import Playbook


def write(status: Path, data: dict[str, object]) -> None:
    tmp = status.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, status)


def main() -> int:
    server, token, model, status_file, stop_file, cache = sys.argv[1:7]
    status, stop = Path(status_file), Path(stop_file)
    pb = Playbook(server, token, model=model, cache_file=cache,
                  resolver={"timeout_s": 2.0, "max_retry_s": 1.0},
                  attributor={"timeout_s": 2.0})
    if not pb.resolver.wait_ready(60):  # at start-up, as a service waits for its config
        print("no route from Playbook or the cache within 60 s", file=sys.stderr)
        return 1
    served = errors = 0
    versions: dict[str, int] = {}

    def report(done: bool = False) -> None:
        write(status, {"served": served, "errors": errors, "versions": versions,
                       "version": pb.version(), "stale": pb.resolver.stale,
                       "attributions": pb.attributor.stats(), "done": done,
                       "server_code_loaded": any(m.split(".")[0] in ("bot", "core", "storage")
                                                 for m in sys.modules)})

    while not stop.exists():
        try:
            with pb.serve(uuid.uuid4().hex) as version:  # the request path
                if version is None:
                    raise RuntimeError("no version known")
                versions[version] = versions.get(version, 0) + 1
            served += 1
        except Exception:
            errors += 1
        if served % 20 == 0:
            report()
        time.sleep(0.002)  # the pace of the traffic, not a synchronisation
    pb.close()
    report(done=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
