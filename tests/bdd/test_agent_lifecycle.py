"""Steps of features/agent_lifecycle.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when

from application.commands import (
    PauseAgent,
    ResumeAgent,
    SpawnAgent,
    TerminateAgent,
    TransitionAgent,
)
from tests.bdd.conftest import NAME, World, words

scenarios("agent_lifecycle.feature")

ROUTES = {
    "created": [],
    "initializing": ["initializing"],
    "ready": ["initializing", "ready"],
    "working": ["initializing", "ready", "working"],
    "waiting": ["initializing", "ready", "waiting"],
    "paused": ["initializing", "ready", "paused"],
    "stopping": ["initializing", "ready", "stopping"],
    "stopped": ["initializing", "ready", "stopping", "stopped"],
    "error": ["initializing", "ready", "error"],
    "terminated": ["initializing", "ready"],
}
"""How a freshly created agent is brought to each state."""


@given(parsers.re(r'an agent named "(?P<name>[^"]+)" that is (?P<state>\w+)'))
def agent_in_state(world: World, name: str, state: str) -> None:
    result = world.do(
        SpawnAgent, name=name, agent_type="coder", capabilities=["python"], start=False
    )
    world.ids[name] = result.aggregate_id
    for step in ROUTES[state]:
        world.do(TransitionAgent, agent_id=world.id(name), to_state=step)
    if state == "terminated":
        world.do(TerminateAgent, agent_id=world.id(name))
    assert world.state_of(name) == state


@when(parsers.re(r'I move "(?P<name>[^"]+)" to (?P<state>\w+)'))
def move(world: World, name: str, state: str) -> None:
    world.attempt(TransitionAgent, agent_id=world.id(name), to_state=state)


@when(parsers.re(r'I pause "(?P<name>[^"]+)"'))
def pause(world: World, name: str) -> None:
    world.attempt(PauseAgent, agent_id=world.id(name), reason="operator pause")


@when(parsers.re(r'I resume "(?P<name>[^"]+)"'))
def resume(world: World, name: str) -> None:
    world.attempt(ResumeAgent, agent_id=world.id(name))


@when(parsers.re(r'I terminate "(?P<name>[^"]+)"'))
def terminate(world: World, name: str) -> None:
    world.attempt(TerminateAgent, agent_id=world.id(name), reason="operator")


@then(parsers.re(NAME + r" is an? (?P<agent_type>\w+) with capabilities (?P<caps>[\w, ]+)"))
def has_type_and_capabilities(world: World, name: str, agent_type: str, caps: str) -> None:
    agent = world.agent(name)
    assert agent.agent_type == agent_type
    assert agent.capabilities == sorted(words(caps))


@then(parsers.re(r"the refusal says the agent is (?P<state>\w+) and may become (?P<allowed>.+)"))
def refusal_names_states(world: World, state: str, allowed: str) -> None:
    assert world.refusal is not None
    details = world.refusal.details
    assert details["current"] == state
    expected = [] if allowed == "nothing" else words(allowed)
    assert details["allowed"] == expected
    assert state in world.refusal.message
