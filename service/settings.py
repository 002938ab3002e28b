"""Runtime settings, read from `LODESTAR_*` environment variables."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    production = "production"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Settings(BaseSettings):
    """Every knob of a Lodestar process. Unset database URL means the embedded server."""

    model_config = SettingsConfigDict(env_prefix="LODESTAR_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="postgresql:// URL of a server; unset starts the embedded PostgreSQL.",
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("lodestar")),
        description="Where the embedded PostgreSQL keeps its data.",
    )
    # A fixed pool by default. Overflow connections are closed again on their return, so
    # under steady concurrency above `pool_size` each request beyond it paid a connect and,
    # on the new connection, a prepare and type introspection per statement; waiting for a
    # pooled connection costs less. See
    # docs/decisions/0011-connection-pool-and-per-request-overhead.md.
    pool_size: int = Field(default=20, ge=1, le=200)
    pool_max_overflow: int = Field(default=0, ge=0, le=200)
    statement_timeout_ms: int = Field(default=15_000, ge=100)
    environment: Environment = Environment.development
    log_format: LogFormat | None = Field(
        default=None, description="Defaults to json in production, text in development."
    )
    log_level: str = "INFO"

    # Limits (SPEC §5, §7).
    max_request_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_points_per_request: int = Field(default=10_000, ge=1)
    max_future_skew_seconds: int = Field(default=600, ge=0)
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    rate_limit_replicas: int = Field(
        default=1,
        ge=1,
        description="Replicas sharing one key's limit; each process enforces 1/N of it.",
    )
    key_usage_flush_seconds: float = Field(
        default=30.0, gt=0, description="How often API keys' last_used_at is written."
    )
    graphql_max_depth: int = Field(default=10, ge=1)
    graphql_max_aliases: int = Field(default=15, ge=0)
    graphql_max_tokens: int = Field(default=2_000, ge=10)
    graphql_max_document_chars: int = Field(default=100_000, ge=100)
    graphql_max_fields: int = Field(default=1_000, ge=1)
    graphql_max_selections: int = Field(default=100, ge=1)
    graphql_max_fragment_spreads: int = Field(default=100, ge=0)
    graphql_introspection: bool = True
    subscription_key_check_seconds: float = Field(default=5.0, gt=0)
    graphql_max_page_size: int = Field(default=100, ge=1)
    graphql_node_budget: int = Field(default=50_000, ge=1)
    graphql_max_batch: int = Field(default=10, ge=1)

    # Webhook delivery worker (SPEC §6).
    worker_in_serve: bool = Field(
        default=True, description="Run the delivery worker inside `lodestar serve`."
    )
    worker_batch_size: int = Field(default=20, ge=1, le=500)
    worker_poll_seconds: float = Field(
        default=5.0, gt=0, description="Fallback poll interval when no notification arrives."
    )
    status_recheck_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the worker announces ingested batches: their"
        " `metric.points_ingested` event and the status changes they caused.",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_lease_seconds: float = Field(
        default=60.0, gt=0, description="How long a claimed delivery is reserved for a worker."
    )
    webhook_retry_window_seconds: float = Field(
        default=24 * 3600.0, ge=0, description="How long a delivery is retried before `failed`."
    )
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_log_retention_days: int = Field(
        default=30, ge=1, description="Finished deliveries and their attempts are kept this long."
    )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.json if self.is_production else LogFormat.text


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
