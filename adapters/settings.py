"""One settings model for the whole process, read from the environment (and `.env`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EventStoreKind = Literal["sqlite", "postgres", "eventstoredb", "memory"]


class Settings(BaseSettings):
    """Configuration of swarmlog; every field is an environment variable (`SWARMLOG_*`)."""

    model_config = SettingsConfigDict(
        env_prefix="SWARMLOG_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    event_store: EventStoreKind = Field(
        "sqlite",
        description="Where events are kept: sqlite (embedded), postgres, eventstoredb, memory.",
    )
    sqlite_path: Path = Field(Path("var/swarmlog.db"), description="SQLite event store file.")
    postgres_dbname: str = "swarmlog"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = Field(5432, ge=1, le=65535)
    postgres_user: str = "postgres"
    postgres_password: str = ""
    postgres_schema: str = Field("", description="PostgreSQL schema for the event tables.")
    postgres_pool_size: int = Field(5, ge=1, le=100)
    eventstoredb_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("EVENTSTOREDB_URI", "SWARMLOG_EVENTSTOREDB_URI"),
        description=(
            "EventStoreDB / KurrentDB connection string (esdb://, esdb+discover://, kurrentdb://"
            "...; credentials as user:password@, TLS with ?tls=true|false)."
        ),
    )
    eventstoredb_root_certificates: str | None = Field(
        None,
        description="PEM of the CA that signed the cluster's certificates (when TLS is on).",
    )
    read_model_url: str = Field(
        "sqlite:///var/read_models.db",
        validation_alias=AliasChoices("READ_MODEL_URL", "SWARMLOG_READ_MODEL_URL"),
        description="SQLAlchemy URL of the read models (postgresql+psycopg://... for PostgreSQL).",
    )
    projection_batch_size: int = Field(
        5000, ge=1, le=100_000, description="Events a projection applies per transaction."
    )
    snapshot_interval: int = Field(
        50,
        ge=0,
        description="Take a snapshot every N events of an aggregate (0: never).",
    )
    aggregate_cache_size: int = Field(
        20_000, ge=0, description="Aggregates kept in memory between commands (0: none)."
    )
    aggregate_cache_fastforward: bool = Field(
        False,
        description=(
            "Read newer events of a cached aggregate before every command. Off: the cache "
            "trusts this process's own writes, and a write that conflicts with another "
            "process's evicts the aggregate and retries."
        ),
    )
    command_retries: int = Field(
        5, ge=0, le=50, description="Retries of a command after a concurrency conflict."
    )
    jwt_secret: str = Field(
        "dev-only-change-me-not-for-production-use",
        description=(
            "HS256 signing secret of API tokens. The default is a development secret, "
            "public and unsafe: set a long random value (32 bytes or more) in production."
        ),
    )
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = Field(
        "HS256",
        description=(
            "Signature algorithm of API tokens: HS256 (shared jwt_secret), or RS256 / ES256 "
            "with jwt_public_key (and jwt_private_key to issue)."
        ),
    )
    jwt_public_key: str | None = Field(
        None,
        description="PEM public key that verifies RS256/ES256 tokens; set, it replaces HS256.",
    )
    jwt_private_key: str | None = Field(
        None,
        description="PEM private key that signs RS256/ES256 tokens (only where tokens are issued).",
    )
    jwt_issuer: str = Field("swarmlog", description="`iss` claim issued and required.")
    jwt_audience: str = Field("swarmlog-api", description="`aud` claim issued and required.")
    jwt_ttl_seconds: int = Field(
        3600,
        ge=60,
        le=30 * 24 * 3600,
        description="Lifetime of an issued token, in seconds (60 s to 30 days).",
    )
    read_wait_seconds: float = Field(
        5.0,
        gt=0,
        le=300,
        description="How long a query with `atLeast` waits for the read model to reach "
        "that position before it is refused with NOT_YET_VISIBLE.",
    )
    serve_worker: bool = Field(
        True,
        description=(
            "Whether `swarmlog serve` runs the projection worker in its own process (the "
            "embedded default). Off for API replicas beside dedicated `swarmlog worker`s."
        ),
    )
    neural_enabled: bool = Field(
        True,
        description=(
            "The neural engine: the `neural` assignment strategy, and `swarmlog serve` "
            "following the log to train in process."
        ),
    )
    neural_model_dir: Path = Field(
        Path("var/models"),
        description="Where model weights are written (found again by checksum); exports too.",
    )
    neural_min_confidence: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Below this confidence the `neural` strategy falls back to capability "
        "match; 0 follows the active model always (the lowest regret measured).",
    )
    neural_update_every: int = Field(
        256, ge=1, le=1_000_000, description="New examples that trigger an incremental update."
    )
    neural_seed: int = Field(0, ge=0, description="Seed of the neural engine's training.")
