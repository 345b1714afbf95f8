"""A starter eval suite (`playbook init` writes it beside playbook.toml; replace it with
yours): version JSON on stdin, scores on stdout.

It checks the prompt against a rubric of behaviours a support assistant must show and penalises
a sampling temperature that makes answers erratic. Deterministic, so re-runs agree.
"""

import json
import sys
from typing import Any

RUBRIC = {
    "cite": "cites its sources",
    "escalate": "escalates to a human when unsure",
    "concise": "keeps answers short",
    "polite": "stays polite",
}


def score(version: dict[str, Any]) -> dict[str, float]:
    components = version["components"]
    prompt = (components.get("prompt") or "").lower()
    config = components.get("config") or {}
    covered = sum(1 for word in RUBRIC if word in prompt) / len(RUBRIC)
    temperature = float(config.get("temperature", 0.2))
    stability = max(0.0, 1.0 - max(0.0, temperature - 0.3))
    return {"score": round(0.7 * covered + 0.3 * stability, 4),
            "rubric": round(covered, 4), "stability": round(stability, 4)}


if __name__ == "__main__":
    print(json.dumps({"scores": score(json.load(sys.stdin))}))
