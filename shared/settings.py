"""Settings: one pydantic-settings class per service, each with its env prefix
(REGISTRY_, SCORING_, ...), plus the shared KAFKA_BOOTSTRAP_SERVERS."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only for local development; refused in production (see check below).
DEV_AUTH_SECRET = "local-development-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    """Base for each service's settings. Subclasses set ``service_name`` and env_prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    environment: Literal["local", "test", "production"] = "local"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under data_dir"
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"),
    )
    auth_secret: str = Field(
        default=DEV_AUTH_SECRET,
        validation_alias=AliasChoices("AUTH_SECRET", "auth_secret"),
        description="HS256 key shared by the services to check officer tokens",
    )
    log_level: str = "INFO"
    run_consumers: bool = Field(default=True, description="consume events inside the API process")
    run_relay: bool = Field(default=True, description="relay the outbox inside the API process")
    consumer_group_suffix: str = Field(
        default="",
        description="appended to every consumer group id: tests give each test groups of its own",
    )
    relay_batch_size: int = Field(
        default=5000, ge=1, le=50_000, description="outbox rows per Kafka batch"
    )
    store_wait_s: float = Field(
        default=5,
        gt=0,
        le=60,
        description="how long a request waits for a locked or unreachable store before 503",
    )
    outbox_retention_days: int = Field(
        default=7, ge=1, description="published outbox rows are deleted after this many days"
    )
    # Owners of the streams this service projects (shared.resync reads their figures).
    registry_url: str | None = Field(
        default=None, description="registry base URL, e.g. http://127.0.0.1:8001 (resync checks)"
    )
    scoring_url: str | None = Field(
        default=None, description="scoring base URL (resync checks of its streams)"
    )
    resync_interval_s: float = Field(
        default=60, gt=0, description="seconds between checks of projections against owners"
    )

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> ServiceSettings:
        if self.environment == "production" and self.auth_secret == DEV_AUTH_SECRET:
            raise ValueError("AUTH_SECRET must be set to a real secret in production")
        if len(self.auth_secret) < 32:
            raise ValueError("AUTH_SECRET must be at least 32 characters")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / f'{self.service_name}.sqlite3').resolve()}"


def env_help(settings_cls: type[ServiceSettings]) -> str:
    """The environment variables a service reads, for ``--help``."""
    prefix = settings_cls.model_config.get("env_prefix", "")
    lines = []
    for name, field in settings_cls.model_fields.items():
        if name == "service_name":
            continue
        alias = field.validation_alias
        env = alias.choices[0] if isinstance(alias, AliasChoices) else f"{prefix}{name}".upper()
        desc = f"  {field.description}" if field.description else ""
        lines.append(f"  {env:<34} default={field.default!s}{desc}")
    return "\n".join(lines)
