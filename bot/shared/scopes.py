"""What API tokens may do, and how long they live unless told: plain constants, imported by
`playbook --help` (which must stay fast) as well as by the API and `playbook token`."""

from __future__ import annotations

SCOPES = ("register", "resolve", "attribute", "audit", "alerts", "admin")
SCOPE_HELP = {
    "register": "CI: register versions, run the gate, promote, approve or reject, roll back",
    "resolve": "serving: resolve tags and the route, read versions, run the gate",
    "attribute": "serving: report attribution batches",
    "audit": "auditors: audit bundles, production at a time, canary comparisons",
    "alerts": "monitoring: post alerts (Alertmanager, Grafana, generic) that open incidents",
    "admin": "everything above",
}
DEFAULT_LIFETIME = "90d"
