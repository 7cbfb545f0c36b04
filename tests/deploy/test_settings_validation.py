"""Every invalid configuration is refused at start with one line naming the variable:
by ``adapters.config_check`` directly, and by the ``swarmlog`` command line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.config_check import check, check_command, load_settings
from adapters.config_error import ConfigurationError
from adapters.config_reach import eventstoredb_hosts
from api.cli import app

pytestmark = pytest.mark.usefixtures("clean_env")

UNREACHABLE = {"host": "127.0.0.1", "port": "1"}  # nothing listens on port 1


def _refused(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> str:
    """The message of the refusal of ``env``, checked in full (settings, then check)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as refused:
        check(load_settings())
    message = str(refused.value)
    assert "\n" not in message
    return message


def _cli(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stderr


def _assert_cli_refuses(*fragments: str, args: tuple[str, ...] = ("projections", "status")) -> None:
    code, stderr = _cli(list(args))
    assert code == 2, stderr
    assert stderr.startswith("invalid configuration: "), stderr
    for fragment in fragments:
        assert fragment in stderr


# -- values pydantic refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("SWARMLOG_POSTGRES_PORT", "70000", "less than or equal to 65535"),
        ("SWARMLOG_POSTGRES_PORT", "five", "valid integer"),
        ("SWARMLOG_EVENT_STORE", "mongodb", "'sqlite', 'postgres', 'eventstoredb' or 'memory'"),
        ("SWARMLOG_PROJECTION_BATCH_SIZE", "0", "greater than or equal to 1"),
        ("SWARMLOG_POSTGRES_POOL_SIZE", "1000", "less than or equal to 100"),
        ("SWARMLOG_JWT_TTL_SECONDS", "5", "greater than or equal to 60"),
        ("SWARMLOG_JWT_ALGORITHM", "none", "'HS256', 'RS256' or 'ES256'"),
        ("SWARMLOG_AGGREGATE_CACHE_FASTFORWARD", "maybe", "valid boolean"),
        ("SWARMLOG_SERVE_WORKER", "perhaps", "valid boolean"),
    ],
)
def test_a_value_the_model_refuses_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    message = _refused(monkeypatch, {variable: value})

    assert message.startswith(f"{variable}: ")
    assert fragment in message
    assert repr(value) in message
    _assert_cli_refuses(f"invalid configuration: {variable}: ", fragment)


def test_every_refused_value_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused(
        monkeypatch, {"SWARMLOG_POSTGRES_PORT": "0", "SWARMLOG_SNAPSHOT_INTERVAL": "-1"}
    )

    assert "SWARMLOG_POSTGRES_PORT: " in message
    assert "; SWARMLOG_SNAPSHOT_INTERVAL: " in message


# -- the read models -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["not a url", "sqlite//missing-colon", "://nothing"])
def test_a_malformed_read_model_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    message = _refused(monkeypatch, {"READ_MODEL_URL": url})

    assert message.startswith("READ_MODEL_URL is not a valid SQLAlchemy URL")
    _assert_cli_refuses("READ_MODEL_URL is not a valid SQLAlchemy URL")


def test_an_unsupported_read_model_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused(monkeypatch, {"READ_MODEL_URL": "mysql://user:secret@db/swarmlog"})

    assert "unsupported dialect 'mysql'" in message
    assert "secret" not in message  # the password is masked
    _assert_cli_refuses("READ_MODEL_URL=", "unsupported dialect 'mysql'")


def test_a_read_model_driver_that_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused(monkeypatch, {"READ_MODEL_URL": "postgresql+nosuchdriver://h/db"})

    assert message.startswith("READ_MODEL_URL=")
    assert "'nosuchdriver' is not available" in message


def test_the_aliased_read_model_variable_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused(monkeypatch, {"SWARMLOG_READ_MODEL_URL": "oracle://h/db"})

    assert "unsupported dialect 'oracle'" in message


def test_an_unreachable_read_model_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql+psycopg://swarmlog:secret@{UNREACHABLE['host']}:{UNREACHABLE['port']}/rm"
    message = _refused(monkeypatch, {"READ_MODEL_URL": url})

    assert message.startswith("READ_MODEL_URL: PostgreSQL at 127.0.0.1:1/rm (user swarmlog)")
    assert "unreachable" in message
    assert "secret" not in message
    _assert_cli_refuses("READ_MODEL_URL: PostgreSQL at 127.0.0.1:1/rm", "unreachable")


def test_a_read_model_sqlite_file_in_a_directory_that_cannot_be_made(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    (clean_env / "a-file").write_text("not a directory")
    message = _refused(monkeypatch, {"READ_MODEL_URL": f"sqlite:///{clean_env}/a-file/rm.db"})

    assert message.startswith("READ_MODEL_URL=")
    assert "is not a directory" in message


# -- the event stores ----------------------------------------------------------------------


def test_an_unreachable_postgres_event_store(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SWARMLOG_EVENT_STORE": "postgres",
        "SWARMLOG_POSTGRES_HOST": UNREACHABLE["host"],
        "SWARMLOG_POSTGRES_PORT": UNREACHABLE["port"],
        "SWARMLOG_POSTGRES_DBNAME": "events",
    }
    message = _refused(monkeypatch, env)

    assert message.startswith("SWARMLOG_EVENT_STORE=postgres: PostgreSQL at 127.0.0.1:1/events")
    assert "unreachable" in message
    for variable in (
        "SWARMLOG_POSTGRES_HOST",
        "SWARMLOG_POSTGRES_PORT",
        "SWARMLOG_POSTGRES_DBNAME",
    ):
        assert variable in message
    _assert_cli_refuses("PostgreSQL at 127.0.0.1:1/events", "SWARMLOG_POSTGRES_PORT")
    _assert_cli_refuses("PostgreSQL at 127.0.0.1:1/events", args=("worker",))
    _assert_cli_refuses("PostgreSQL at 127.0.0.1:1/events", args=("serve", "--no-worker"))


def test_eventstoredb_without_a_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused(monkeypatch, {"SWARMLOG_EVENT_STORE": "eventstoredb"})

    assert message.startswith("SWARMLOG_EVENT_STORE=eventstoredb needs EVENTSTOREDB_URI")
    _assert_cli_refuses("needs EVENTSTOREDB_URI")


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("http://localhost:2113", "unsupported scheme 'http'"),
        ("tcp://admin:changeit@localhost:1113", "unsupported scheme 'tcp'"),
        ("localhost:2113", "is not a connection string"),
        ("esdb://", "no host"),
        ("esdb://admin:changeit@", "no host"),
        ("esdb://localhost:port", "bad port 'port'"),
        ("esdb://localhost:70000", "bad port '70000'"),
        ("esdb://node1:2113,:2113", "empty host"),
        ("esdb://localhost:2113/streams", "has no path"),
        ("esdb://localhost:2113?tls=maybe", "tls must be true or false"),
    ],
)
def test_a_malformed_eventstoredb_uri(
    monkeypatch: pytest.MonkeyPatch, uri: str, fragment: str
) -> None:
    message = _refused(
        monkeypatch, {"SWARMLOG_EVENT_STORE": "eventstoredb", "EVENTSTOREDB_URI": uri}
    )

    assert message.startswith("EVENTSTOREDB_URI")
    assert fragment in message
    _assert_cli_refuses("EVENTSTOREDB_URI", fragment)


def test_an_unreachable_eventstoredb(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SWARMLOG_EVENT_STORE": "eventstoredb",
        "SWARMLOG_EVENTSTOREDB_URI": "esdb://127.0.0.1:1,127.0.0.1:2?tls=false",
    }
    message = _refused(monkeypatch, env)

    assert message.startswith("EVENTSTOREDB_URI: no EventStoreDB node reachable")
    assert "127.0.0.1:1" in message
    assert "127.0.0.1:2" in message
    _assert_cli_refuses("no EventStoreDB node reachable")


@pytest.mark.parametrize(
    ("uri", "hosts"),
    [
        ("esdb://localhost:2113?tls=false", [("localhost", 2113)]),
        ("esdb://admin:changeit@localhost?tls=true", [("localhost", 2113)]),
        ("esdb+discover://eventstore:2113?tls=false", [("eventstore", 2113)]),
        ("kurrentdb://es1:2113,es2:2113,es3:2113", [("es1", 2113), ("es2", 2113), ("es3", 2113)]),
        ("kurrentdb+discover://cluster.local:2113/?tls=true", [("cluster.local", 2113)]),
    ],
)
def test_well_formed_eventstoredb_uris(uri: str, hosts: list[tuple[str, int]]) -> None:
    assert eventstoredb_hosts(uri) == hosts


def test_a_sqlite_event_store_in_a_directory_that_cannot_be_made(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    (clean_env / "a-file").write_text("not a directory")
    message = _refused(monkeypatch, {"SWARMLOG_SQLITE_PATH": str(clean_env / "a-file/db/ev.db")})

    assert message.startswith("SWARMLOG_SQLITE_PATH=")
    assert "is not a directory" in message
    _assert_cli_refuses("SWARMLOG_SQLITE_PATH=", "is not a directory")


def test_a_sqlite_event_store_in_a_read_only_directory(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    locked = clean_env / "locked"
    locked.mkdir(mode=0o500)
    try:
        if _writable(locked):
            pytest.skip("running as root: every directory is writable")
        message = _refused(monkeypatch, {"SWARMLOG_SQLITE_PATH": str(locked / "events.db")})
        assert "is not writable" in message
    finally:
        locked.chmod(0o700)


def _writable(directory: Path) -> bool:
    try:
        (directory / "probe").touch()
    except OSError:
        return False
    (directory / "probe").unlink()
    return True


# -- JWT -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        (
            {"SWARMLOG_JWT_ALGORITHM": "RS256"},
            "SWARMLOG_JWT_ALGORITHM=RS256 needs SWARMLOG_JWT_PUBLIC_KEY",
        ),
        (
            {"SWARMLOG_JWT_ALGORITHM": "ES256"},
            "SWARMLOG_JWT_ALGORITHM=ES256 needs SWARMLOG_JWT_PUBLIC_KEY",
        ),
        (
            {"SWARMLOG_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----"},
            "SWARMLOG_JWT_ALGORITHM must be RS256 or ES256",
        ),
        (
            {"SWARMLOG_JWT_ALGORITHM": "RS256", "SWARMLOG_JWT_PUBLIC_KEY": "not a key"},
            "SWARMLOG_JWT_PUBLIC_KEY is not a valid RS256 PEM key",
        ),
        ({"SWARMLOG_JWT_SECRET": ""}, "SWARMLOG_JWT_SECRET must not be empty"),
    ],
)
def test_inconsistent_jwt_settings(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], fragment: str
) -> None:
    message = _refused(monkeypatch, env)

    assert fragment in message
    _assert_cli_refuses(fragment)
    _assert_cli_refuses(fragment, args=("token", "--role", "admin"))


# -- what passes ---------------------------------------------------------------------------


def test_the_defaults_pass(clean_env: Path) -> None:
    check(load_settings())

    assert check_command("projections", argv=["projections", "status"]) is not None


def test_a_reachable_postgresql_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import PG, postgres_reachable

    if postgres_reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    monkeypatch.setenv("SWARMLOG_EVENT_STORE", "postgres")
    monkeypatch.setenv("SWARMLOG_POSTGRES_DBNAME", str(PG["dbname"]))
    monkeypatch.setenv(
        "READ_MODEL_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG['dbname']}"
    )

    check(load_settings())


def test_token_needs_no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMLOG_EVENT_STORE", "eventstoredb")  # no URI: no store works
    monkeypatch.setenv("SWARMLOG_JWT_SECRET", "s" * 40)

    code, stderr = _cli(["token", "--role", "viewer"])

    assert code == 0, stderr


def test_help_is_shown_whatever_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMLOG_POSTGRES_PORT", "70000")

    assert check_command("serve", argv=["serve", "--help"]) is None
    assert CliRunner().invoke(app, ["--help"]).exit_code == 0
