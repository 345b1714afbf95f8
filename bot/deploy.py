"""A model's deploy path, fingerprinted, so a change to it calls for a rollback rehearsal.

`deploy_path` in playbook.toml says how a version reaches serving: a script, a manifest, a
command line. The fingerprint covers the value and, when it names a file (relative to
playbook.toml), the file's content, so editing the script counts as a change too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.bootstrap import App
from core.config import ModelPolicy


def deploy_fingerprint(policy: ModelPolicy, base_dir: Path) -> str | None:
    if not policy.deploy_path:
        return None
    digest = hashlib.sha256(policy.deploy_path.encode())
    path = Path(policy.deploy_path)
    path = path if path.is_absolute() else base_dir / path
    try:
        if path.is_file():
            digest.update(b"\0" + path.read_bytes())
    except (OSError, ValueError):  # a command line, not a path: the value alone counts
        pass
    return digest.hexdigest()[:16]


def fingerprint_for(app: App, model: str) -> str | None:
    """The fingerprint of `model`'s deploy path, relative paths read beside playbook.toml."""
    return deploy_fingerprint(app.config.model(model), app.settings.config_path.resolve().parent)
