"""docker/compose.yaml and docker/Dockerfile agree with the code, without a container
engine: every service's image or build, command (a real ``swarmlog`` command line,
parsed by the Typer app itself), environment variables (read by the Settings model, or
documented ones of the third-party images), health checks and start-up order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
import yaml

from adapters.config_check import all_variable_names, check_auth
from adapters.config_error import ConfigurationError
from adapters.config_reach import eventstoredb_hosts
from adapters.settings import Settings
from api.cli import app

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
ENV_EXAMPLE = DOCKER / ".env.example"

# Variables of the third-party images, by the image's name: EventStoreDB / KurrentDB
# read EVENTSTORE_* (KURRENTDB_* for KurrentDB), the postgres image POSTGRES_*.
THIRD_PARTY_VARIABLES = {
    "eventstore": re.compile(r"EVENTSTORE_[A-Z0-9_]+"),
    "kurrent": re.compile(r"(KURRENTDB|EVENTSTORE)_[A-Z0-9_]+"),
    "postgres": re.compile(r"POSTGRES_(DB|USER|PASSWORD|INITDB_ARGS|HOST_AUTH_METHOD)|PGDATA"),
    "caddy": re.compile(r"CADDY_[A-Z0-9_]+"),
}

# Commands that are being written now: the service is checked once the command exists.
PENDING_COMMANDS: dict[str, str] = {}

# Typer vendors its click (typer._click) in recent versions: find its UsageError publicly.
UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)

INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _ours(service: dict[str, Any]) -> bool:
    """A service that runs the swarmlog image (built from docker/Dockerfile)."""
    build = service.get("build")
    return isinstance(build, dict) and str(build.get("dockerfile", "")).endswith(
        "docker/Dockerfile"
    )


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # the KEY=value form
        environment = dict(item.partition("=")[::2] for item in environment)
    return {str(k): "" if v is None else str(v) for k, v in environment.items()}


def _interpolated(value: str) -> str:
    """``value`` as compose would make it with no variable set: ``${X:-default}`` is
    the default, ``${X:?error}`` (required) a stand-in value."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            return f"required-{name.lower()}-" + "x" * 32
        return ""

    return INTERPOLATION.sub(replace, value)


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return command.split()
    assert isinstance(command, list), "command must be a list or a string"
    return [str(part) for part in command]


def _health_test(service: dict[str, Any]) -> list[str] | str | None:
    healthcheck = service.get("healthcheck") or {}
    if healthcheck.get("disable"):
        return None
    test: list[str] | str | None = healthcheck.get("test")
    return test


SERVICES = _services()
OUR_SERVICES = sorted(name for name, service in SERVICES.items() if _ours(service))


def test_the_compose_file_names_the_services_of_the_stack() -> None:
    assert {"postgres", "api", "worker", "trainer"} <= set(SERVICES)
    assert {"api", "worker", "trainer"} <= set(OUR_SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_an_image_or_a_build(name: str) -> None:
    service = SERVICES[name]
    assert service.get("image") or service.get("build"), f"{name}: no image and no build"
    if _ours(service):
        assert service["build"]["context"] == "..", "the build context is the repository root"


# -- commands ------------------------------------------------------------------------------


def _parse(arguments: list[str]) -> Any:
    """The command ``swarmlog <arguments>`` would run, its options parsed by Typer itself
    (an unknown option or a bad value raises UsageError; an unknown command fails)."""
    command: Any = typer.main.get_command(app)
    rest, name = list(arguments), "swarmlog"
    while hasattr(command, "commands"):  # a group: descend into the subcommand
        assert rest, f"`{name}` needs a subcommand"
        sub_name, *rest = rest
        assert sub_name in command.commands, f"no command {sub_name!r} in `{name}`"
        command, name = command.commands[sub_name], sub_name
    command.make_context(name, rest)  # parses, invokes nothing
    return command


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_every_swarmlog_service_runs_a_real_swarmlog_command(name: str) -> None:
    program, *arguments = _command(SERVICES[name])
    assert program == "swarmlog"
    group: Any = typer.main.get_command(app)
    pending = PENDING_COMMANDS.get(arguments[0])
    if pending and arguments[0] not in group.commands:
        pytest.skip(f"{name}: {pending}")
    try:
        _parse(arguments)
    except UsageError as error:
        pytest.fail(f"{name}: `swarmlog {' '.join(arguments)}`: {error}")


def test_the_parser_refuses_what_the_cli_refuses() -> None:
    with pytest.raises(UsageError):
        _parse(["serve", "--no-such-option"])
    with pytest.raises(AssertionError):
        _parse(["no-such-command"])
    assert _parse(["serve", "--host", "0.0.0.0", "--no-worker"]).name == "serve"


def test_the_trainer_follows_the_log_with_the_neural_cli() -> None:
    assert _command(SERVICES["trainer"]) == ["swarmlog", "neural", "train", "--follow"]


def test_the_api_replicas_leave_projections_to_the_workers() -> None:
    api = SERVICES["api"]
    command = _command(api)
    assert command[:2] == ["swarmlog", "serve"]
    assert "0.0.0.0" in command
    no_worker = "--no-worker" in command
    assert no_worker or _environment(api).get("SWARMLOG_SERVE_WORKER") == "false"
    assert _command(SERVICES["worker"]) == ["swarmlog", "worker"]


def test_the_api_runs_several_replicas_and_workers_run() -> None:
    assert int(SERVICES["api"]["deploy"]["replicas"]) >= 2
    assert int(SERVICES["worker"]["deploy"]["replicas"]) >= 1


def test_no_replicated_service_publishes_a_fixed_host_port() -> None:
    for name, service in SERVICES.items():
        if int(service.get("deploy", {}).get("replicas", 1)) > 1:
            assert not service.get("ports"), f"{name}: replicas cannot share a host port"


# -- environment ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_environment_variable_is_read_by_someone(name: str) -> None:
    service = SERVICES[name]
    variables = set(_environment(service))
    if _ours(service):
        unknown = variables - all_variable_names()
        assert not unknown, f"{name}: the Settings model reads no {sorted(unknown)}"
        return
    image = str(service.get("image", ""))
    patterns = [p for key, p in THIRD_PARTY_VARIABLES.items() if key in image]
    assert patterns or not variables, f"{name}: variables of an unknown image {image!r}"
    unknown = {v for v in variables if not any(p.fullmatch(v) for p in patterns)}
    assert not unknown, f"{name}: {image} documents no {sorted(unknown)}"


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_every_swarmlog_service_environment_is_a_valid_configuration(
    name: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The values (defaults of the interpolations) pass the model and the offline
    checks: the model's own validation, the event store URI, the JWT settings."""
    for variable, value in _environment(SERVICES[name]).items():
        monkeypatch.setenv(variable, _interpolated(value))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.event_store == "eventstoredb"
    assert settings.eventstoredb_uri
    assert eventstoredb_hosts(settings.eventstoredb_uri)
    assert settings.read_model_url.startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in settings.read_model_url
    assert settings.postgres_host == "postgres"
    try:
        check_auth(settings)
    except ConfigurationError as error:
        pytest.fail(f"{name}: {error}")


def test_the_jwt_secret_must_be_given() -> None:
    for name in OUR_SERVICES:
        secret = _environment(SERVICES[name])["SWARMLOG_JWT_SECRET"]
        assert re.fullmatch(r"\$\{SWARMLOG_JWT_SECRET:\?[^}]+\}", secret), name


def test_the_read_models_and_postgres_agree() -> None:
    postgres = _environment(SERVICES["postgres"])
    for name in OUR_SERVICES:
        environment = _environment(SERVICES[name])
        url = environment["READ_MODEL_URL"]
        assert postgres["POSTGRES_USER"] in url
        assert postgres["POSTGRES_PASSWORD"] in url
        assert url.endswith("/" + postgres["POSTGRES_DB"])
        assert environment["SWARMLOG_POSTGRES_DBNAME"] == postgres["POSTGRES_DB"]


def test_the_env_example_names_only_variables_that_exist() -> None:
    names = {
        line.lstrip("# ").partition("=")[0]
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if re.match(r"#? ?[A-Z][A-Z0-9_]*=", line)
    }
    ours = {n for n in names if n.startswith("SWARMLOG_") or n in all_variable_names()}
    assert ours <= all_variable_names()
    used = set(INTERPOLATION.findall(COMPOSE.read_text(encoding="utf-8")))
    compose_variables = {name for name, _, _ in used}
    assert compose_variables <= names, "docker/.env.example lacks a variable of compose.yaml"
    assert "COMPOSE_PROFILES" in names


# -- health and start-up order -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_health_check(name: str) -> None:
    test = _health_test(SERVICES[name])
    assert test, f"{name}: no health check"
    if isinstance(test, list):
        assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: health check {test!r}"


def test_the_api_health_check_asks_the_api_and_the_worker_check_asks_the_cli() -> None:
    assert "/readyz" in " ".join(_health_test(SERVICES["api"]) or [])
    worker_test = _health_test(SERVICES["worker"])
    assert isinstance(worker_test, list)
    assert worker_test[1] == "swarmlog"
    _parse(worker_test[2:])


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_depends_on_waits_for_healthy_services_that_exist(name: str) -> None:
    depends_on = SERVICES[name].get("depends_on") or {}
    assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
    for dependency, condition in depends_on.items():
        assert dependency in SERVICES, f"{name} depends on no service {dependency!r}"
        assert condition.get("condition") == "service_healthy", f"{name} -> {dependency}"
        assert _health_test(SERVICES[dependency]), f"{dependency} has no health check"


def test_the_app_starts_after_its_stores() -> None:
    for name in OUR_SERVICES:
        depends_on = SERVICES[name]["depends_on"]
        assert "postgres" in depends_on
        assert depends_on["postgres"].get("required", True) is True
        nodes = {"es1", "es2", "es3", "eventstore"}
        assert nodes <= set(depends_on), f"{name} must wait for EventStoreDB"
        assert all(depends_on[node]["required"] is False for node in nodes)
    assert "worker" in SERVICES["api"]["depends_on"]
    assert "api" in SERVICES["proxy"]["depends_on"]


def _no_cycle() -> None:
    graph = {n: set(s.get("depends_on") or {}) for n, s in SERVICES.items()}
    done: set[str] = set()
    while graph:
        ready = [n for n, deps in graph.items() if deps <= done]
        assert ready, f"depends_on has a cycle among {sorted(graph)}"
        for n in ready:
            done.add(n)
            del graph[n]


def test_the_start_up_order_has_no_cycle() -> None:
    _no_cycle()


# -- EventStoreDB profiles -----------------------------------------------------------------


def _in_profile(profile: str) -> list[str]:
    return sorted(n for n, s in SERVICES.items() if profile in (s.get("profiles") or []))


def test_the_cluster_profile_is_three_eventstoredb_nodes_that_know_each_other() -> None:
    nodes = _in_profile("cluster")
    assert nodes == ["es1", "es2", "es3"]
    for node in nodes:
        environment = _environment(SERVICES[node])
        assert environment["KURRENTDB_CLUSTER_SIZE"] == str(len(nodes))
        seeds = {seed.split(":")[0] for seed in environment["KURRENTDB_GOSSIP_SEED"].split(",")}
        assert seeds == set(nodes) - {node}
        aliases = SERVICES[node]["networks"]["default"]["aliases"]
        assert "eventstore" in aliases  # esdb+discover://eventstore finds every node


def test_every_eventstoredb_node_runs_kurrentdb_25_1_or_later() -> None:
    """The adapter writes a command's several streams in one multi-stream append,
    which KurrentDB has from 25.1; an older server would refuse most commands."""
    for node in ["eventstore", *_in_profile("cluster")]:
        image = _interpolated(SERVICES[node]["image"])
        name, _, tag = image.rpartition(":")
        assert name.endswith("/kurrentdb"), image
        assert tuple(int(part) for part in tag.split(".")[:2]) >= (25, 1), image
        assert all(key.startswith("KURRENTDB_") for key in _environment(SERVICES[node]))


def test_the_single_profile_is_one_eventstoredb_node_for_laptops() -> None:
    nodes = _in_profile("single")
    assert nodes == ["eventstore"]
    environment = _environment(SERVICES["eventstore"])
    assert environment["KURRENTDB_CLUSTER_SIZE"] == "1"
    assert any("2113:2113" in str(port) for port in SERVICES["eventstore"]["ports"])


def test_the_default_uri_reaches_both_profiles() -> None:
    uri = _interpolated(_environment(SERVICES["api"])["EVENTSTOREDB_URI"])
    assert eventstoredb_hosts(uri) == [("eventstore", 2113)]
    assert "tls=false" in uri  # the nodes run insecure
    for node in ["eventstore", *_in_profile("cluster")]:
        assert _environment(SERVICES[node])["KURRENTDB_INSECURE"] == "true"


def test_only_the_eventstoredb_nodes_are_in_profiles() -> None:
    in_profiles = {n for n, s in SERVICES.items() if s.get("profiles")}
    assert in_profiles == {"es1", "es2", "es3", "eventstore"}


# -- the Dockerfile ------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), ([*line.split(maxsplit=1), ""])[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_dockerfile_is_multi_stage() -> None:
    stages = [args for keyword, args in _instructions() if keyword == "FROM"]
    assert len(stages) >= 2
    assert any("AS builder" in stage for stage in stages)
    copies = [args for keyword, args in _instructions() if keyword == "COPY"]
    assert any("--from=builder" in copy for copy in copies)


def test_the_dockerfile_runs_as_a_user_who_is_not_root() -> None:
    users = [args.split(":")[0] for keyword, args in _instructions() if keyword == "USER"]
    assert users, "no USER"
    assert users[-1] not in ("root", "0")


def test_the_dockerfile_has_a_health_check_on_healthz_without_curl() -> None:
    checks = [args for keyword, args in _instructions() if keyword == "HEALTHCHECK"]
    assert checks
    assert "/healthz" in checks[-1]
    assert "urllib" in checks[-1]
    assert "curl" not in checks[-1]


def test_the_dockerfile_serves_the_api_by_default() -> None:
    commands = [args for keyword, args in _instructions() if keyword == "CMD"]
    assert commands[-1] == '["swarmlog", "serve", "--host", "0.0.0.0"]'
    _parse(["serve", "--host", "0.0.0.0"])


def test_the_dockerignore_keeps_the_virtualenv_out() -> None:
    ignore = (DOCKER.parent / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignore  # everything out, then only the sources back in
    assert not any(line.startswith(("!.venv", "!var")) for line in ignore)
