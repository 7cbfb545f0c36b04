"""Event store configuration: turns Settings into the eventsourcing library's environment."""

from __future__ import annotations

from adapters.settings import Settings


def event_store_env(settings: Settings) -> dict[str, str]:
    """The environment the eventsourcing `Application` reads its persistence from."""
    return {**_persistence(settings), **_cache(settings)}


def _cache(settings: Settings) -> dict[str, str]:
    if not settings.aggregate_cache_size:
        return {}
    return {
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        "AGGREGATE_CACHE_FASTFORWARD": "y" if settings.aggregate_cache_fastforward else "n",
    }


def _persistence(settings: Settings) -> dict[str, str]:
    if settings.event_store == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if settings.event_store == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        # Not "y": the library's DB-function insert drops the tracking row that a
        # policy saves with its reaction (eventsourcing 9.5.6), losing exactly-once.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }
