"""Every setting Playbook reads from its environment, in one class (pydantic-settings), and
where things are: from flags first, then the environment, then sane local defaults.

A bad value stops the command with one line naming the variable and what it must be, instead
of a traceback; an empty value counts as unset.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.shared.slack_commands import prefix_problem
from core.errors import ConfigError

MiB = 1024 * 1024
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Environment(BaseSettings):
    """What the environment says, by the variables' own names (docs list each)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore",
                                      env_ignore_empty=True, str_strip_whitespace=True,
                                      frozen=True)

    # where things are
    config: str | None = Field(None, alias="PLAYBOOK_CONFIG")
    home: str | None = Field(None, alias="PLAYBOOK_HOME")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    user: str | None = Field(None, alias="PLAYBOOK_USER")
    # Slack (secrets only ever from here, never from playbook.toml)
    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN", repr=False)
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET", repr=False)
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN", repr=False)
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    slack_workers: int = Field(8, ge=1, alias="SLACK_WORKERS")
    slack_lease_s: float = Field(90.0, ge=1, le=3600, alias="PLAYBOOK_SLACK_LEASE_S")
    slack_command_prefix: str = Field("", alias="SLACK_COMMAND_PREFIX")  # pb-: /pb-rollback
    # the HTTP API
    api_max_body_bytes: int = Field(10 * MiB, gt=0, alias="PLAYBOOK_API_MAX_BODY_BYTES")
    api_token_cache_s: float = Field(5.0, ge=0, alias="PLAYBOOK_API_TOKEN_CACHE_S")
    api_resolve_cache_s: float = Field(1.0, ge=0, alias="PLAYBOOK_API_RESOLVE_CACHE_S")
    stream_poll_s: float = Field(0.5, ge=0.05, le=60, alias="PLAYBOOK_STREAM_POLL_S")
    # the server
    log_level: LogLevel | None = Field(None, alias="PLAYBOOK_LOG_LEVEL")
    log_format: Literal["json", "text"] | None = Field(None, alias="PLAYBOOK_LOG_FORMAT")
    outbox_lease_s: float = Field(120.0, gt=0, le=24 * 3600, alias="PLAYBOOK_OUTBOX_LEASE_S")
    migrate: bool = Field(False, alias="PLAYBOOK_MIGRATE")
    # POST /v1/alerts from tools that cannot send a bearer token: an HMAC-SHA256 of the body.
    alerts_hmac_secret: str | None = Field(None, alias="PLAYBOOK_ALERTS_HMAC_SECRET",
                                           repr=False)
    # `playbook serve` and the ASGI factory (bot.server:from_env)
    host: str = Field("127.0.0.1", alias="PLAYBOOK_HOST")
    port: int = Field(8080, ge=1, le=65535, alias="PLAYBOOK_PORT")
    workers: int = Field(1, ge=1, le=64, alias="PLAYBOOK_WORKERS")
    serve_mode: Literal["slack", "socket", "http-only"] | None = Field(
        None, alias="PLAYBOOK_SERVE_MODE")
    shutdown_timeout_s: int = Field(10, ge=1, le=3600, alias="PLAYBOOK_SHUTDOWN_TIMEOUT_S")
    db_pool_size: int = Field(5, ge=1, le=1000, alias="PLAYBOOK_DB_POOL_SIZE")
    db_max_overflow: int = Field(10, ge=0, le=1000, alias="PLAYBOOK_DB_MAX_OVERFLOW")
    # the remote CLI
    server: str | None = Field(None, alias="PLAYBOOK_SERVER")
    token: str | None = Field(None, alias="PLAYBOOK_TOKEN", repr=False)
    remote_attempts: int = Field(5, ge=1, alias="PLAYBOOK_REMOTE_ATTEMPTS")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", "serve_mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("slack_command_prefix")
    @classmethod
    def _slack_command_prefix(cls, value: str) -> str:
        problem = prefix_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class _Given(Environment):
    """The same settings from given variables only: the process environment is not read, so
    a mapping (a test's, or `Settings.with_env`'s) says everything, and leaving a variable out
    of it, or giving it empty, unsets it."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   *rest: PydanticBaseSettingsSource,
                                   **named: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def environment(env: Mapping[str, str] | None = None) -> Environment:
    """The environment's settings (`env` instead of os.environ, for tests and the sandbox)."""
    moved = sorted(k for k in (os.environ if env is None else env)
                   if k.startswith("PLAYBOOK_CANARY_"))
    if moved:
        raise ConfigError(
            f"{', '.join(moved)}: canary thresholds are set per model in playbook.toml now",
            hint="remove the variable and write canary = { min_sample = 200, alpha = 0.01, "
                 "latency_tolerance = 0.2 } under [defaults] or [models.NAME]")
    try:
        if env is None:
            return Environment()
        return _Given.model_validate({k: v for k, v in env.items() if v.strip()})
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "the environment"
            given = e.get("input")
            problems.append(f"{name}={given!r}: {str(e['msg']).removeprefix('Value error, ')}"
                            if isinstance(given, str) else f"{name}: {e['msg']}")
        raise ConfigError("the environment is not valid: " + "; ".join(problems),
                          hint="fix or unset the variable; README (Configuration) lists each one"
                          ) from exc



@dataclass(frozen=True)
class Settings:
    """What the one application object (bot.bootstrap.App) is built from: where things are,
    and the environment as read once (every entry point reads `env`, never os.environ)."""

    config_path: Path
    home: Path  # local state: the SQLite file and the artifact store
    database_url: str
    actor: str
    env: Environment = field(default_factory=lambda: environment())
    # Bring the schema to this Playbook's on the way in: --migrate, PLAYBOOK_MIGRATE=1, or the
    # embedded default (the SQLite file in --home, which no other Playbook shares). A database
    # named by --database or DATABASE_URL is otherwise only checked, never changed.
    migrate: bool = False

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    def with_env(self, **variables: str) -> Settings:
        """These settings with some variables given otherwise, by their names (the sandbox
        points the Slack app at its stand-in this way)."""
        now = self.env.model_dump(by_alias=True, exclude_none=True)
        return replace(self, env=environment({**{k: str(v) for k, v in now.items()},
                                              **variables}))


def export(settings: Settings, **variables: str) -> None:
    """Put these settings (and `variables`) into this process's environment, for the worker
    processes `serve --workers N` starts, which build their app from the environment."""
    os.environ.update({"PLAYBOOK_CONFIG": str(settings.config_path.resolve()),
                       "PLAYBOOK_HOME": str(settings.home.resolve()),
                       "DATABASE_URL": settings.database_url, "PLAYBOOK_USER": settings.actor,
                       **variables})


def secret(variable: str) -> str | None:
    """A secret that playbook.toml names by its variable (`secret = "env:NAME"`), read when
    it is used, so a rotated secret needs no restart of the CLI (servers read it per
    delivery too)."""
    return os.environ.get(variable) or None


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_settings(*, config: str | None = None, home: str | None = None,
                  database: str | None = None, actor: str | None = None,
                  migrate: bool = False) -> Settings:
    env = environment()
    config_path = Path(config or env.config or "playbook.toml")
    home_dir = Path(home or env.home or ".playbook")
    named = database or env.database_url
    url = named or f"sqlite:///{home_dir / 'playbook.db'}"
    who = actor or env.user or _default_actor()
    return Settings(config_path=config_path, home=home_dir, database_url=url, actor=who,
                    env=env, migrate=migrate or env.migrate or not named)
