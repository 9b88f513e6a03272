"""Server settings: flags of ``mesocosm server`` or ``MESOCOSM_SERVER_*`` variables.

The hosted service's ``ORCH_*`` settings keep their defaults (PLATFORM_API.md 1.2)
except where a self-hosted server should differ: the submission cooldown is off, and
local endpoints are refused unless ``allow_local_endpoints`` is set.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".mesocosm")


class ServerSettings(BaseSettings):
    """Everything the app, the worker and the CLI read; nothing is read elsewhere."""

    model_config = SettingsConfigDict(env_prefix="MESOCOSM_SERVER_")

    host: str = "127.0.0.1"
    port: int = 8000
    bench_port: int = 8010  # the bench API alone, as MESOCOSM_LOCAL expects; 0: off
    database_url: str = ""  # empty: SQLite in data_dir/server.db
    data_dir: Path = DEFAULT_DATA_DIR
    key_file: Path | None = None  # empty: data_dir/server.key (beside the SQLite file)
    workers: int = Field(default=10, ge=0)  # episodes played at once by this process (0: none)
    request_threads: int = Field(default=40, ge=1)  # routes served at once (thread pool)
    allow_local_endpoints: bool = False
    models: list[str] = Field(default_factory=list)  # empty: every model allowed
    admins: list[str] = Field(default_factory=list)  # member usernames who see /v1/admin/status
    max_episodes_per_run: int = Field(default=20, ge=1)
    max_episode_steps: int = Field(default=35, ge=1)
    max_tokens_per_episode: int = 100_000
    min_scoreable_episode_ratio: float = 0.5
    guest_runs_per_day: int = 5
    guest_sessions_per_client_per_hour: int = 20
    demo_domain_ids: list[str] = Field(default_factory=list)
    run_submission_cooldown_seconds: int = 0
    member_token_seconds: int = 3600
    guest_session_days: int = 7
    lease_seconds: float = Field(default=30.0, gt=0)
    # claims happen when a route or a finished episode wakes the worker; this poll only
    # picks up work enqueued by another process on the same database
    poll_seconds: float = Field(default=1.0, gt=0)
    # developer environments (README "Developer environments")
    devenv_dir: Path | None = None  # empty: data_dir/devenvs if the sandbox user can reach it
    devenv_python: str = ""  # base interpreter of the envs' virtualenvs; empty: found
    devenv_user: str = "nobody"  # adapters run as this account when the server runs as root
    devenv_clone_seconds: float = Field(default=120.0, gt=0)
    devenv_install_seconds: float = Field(default=300.0, gt=0)
    devenv_health_seconds: float = Field(default=30.0, gt=0)
    devenv_memory_mb: int = Field(default=2048, ge=64)  # address space of an adapter
    devenv_max_processes: int = Field(default=256, ge=8)  # per sandbox user
    devenv_max_open_files: int = Field(default=1024, ge=64)

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'server.db'}"

    @property
    def onboarding_seconds(self) -> float:
        """Onboarding's own limit: the sum of its steps' limits, plus a margin."""
        return (self.devenv_clone_seconds + self.devenv_install_seconds
                + self.devenv_health_seconds + 30.0)

    @property
    def key_path(self) -> Path:
        if self.key_file is not None:
            return self.key_file
        if self.sqlalchemy_url.startswith("sqlite:///"):
            return Path(self.sqlalchemy_url[len("sqlite:///"):]).parent / "server.key"
        return self.data_dir / "server.key"
