"""Event store configuration: turns Settings into the eventsourcing library's environment."""

from __future__ import annotations

from adapters.settings import Settings

ESDB_FACTORY = "adapters.eventstoredb:SwarmlogEventStoreDBFactory"


class EventStoreConfigError(ValueError):
    """The settings do not say enough to open the chosen event store."""


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
    if settings.event_store == "eventstoredb":
        return _eventstoredb(settings)
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


def _eventstoredb(settings: Settings) -> dict[str, str]:
    """EventStoreDB / KurrentDB (docs/eventstoredb.md): the URI carries credentials
    (``user:password@``) and TLS (``?tls=true|false``, ``tlsVerifyCert``); the root
    certificates are the PEM, or the path of a PEM file."""
    if not settings.eventstoredb_uri:
        raise EventStoreConfigError(
            "event_store is 'eventstoredb' but EVENTSTOREDB_URI is not set; give the "
            "connection string, e.g. EVENTSTOREDB_URI='esdb://localhost:2113?tls=false' "
            "or 'esdb://admin:changeit@host:2113' with SWARMLOG_EVENTSTOREDB_ROOT_CERTIFICATES"
        )
    env = {
        "PERSISTENCE_MODULE": ESDB_FACTORY,
        # both spellings: the library reads the application-prefixed name first, so
        # the settings win over a stray SWARMLOG_EVENTSTOREDB_URI in the process
        "EVENTSTOREDB_URI": settings.eventstoredb_uri,
        "SWARMLOG_EVENTSTOREDB_URI": settings.eventstoredb_uri,
    }
    if settings.eventstoredb_root_certificates:
        env["EVENTSTOREDB_ROOT_CERTIFICATES"] = settings.eventstoredb_root_certificates
        env["SWARMLOG_EVENTSTOREDB_ROOT_CERTIFICATES"] = settings.eventstoredb_root_certificates
    return env
