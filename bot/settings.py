"""Where things are: from flags first, then the environment, then sane local defaults."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    config_path: Path
    home: Path  # local state: the SQLite file and the artifact store
    database_url: str
    actor: str

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_settings(*, config: str | None = None, home: str | None = None,
                  database: str | None = None, actor: str | None = None) -> Settings:
    env = os.environ
    config_path = Path(config or env.get("PLAYBOOK_CONFIG") or "playbook.toml")
    home_dir = Path(home or env.get("PLAYBOOK_HOME") or ".playbook")
    url = database or env.get("DATABASE_URL") or f"sqlite:///{home_dir / 'playbook.db'}"
    who = actor or env.get("PLAYBOOK_USER") or _default_actor()
    return Settings(config_path=config_path, home=home_dir, database_url=url, actor=who)
