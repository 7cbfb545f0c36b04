"""Steps of features/swarm_topology.feature."""

from __future__ import annotations

from uuid import UUID

from pytest_bdd import given, parsers, scenarios, then, when

from application.commands import JoinSwarm, LeaveSwarm, ScaleSwarm, ShutdownSwarm
from tests.bdd.conftest import NAME, World, quoted, words

scenarios("swarm_topology.feature")

SWARM = r'"(?P<swarm>[^"]+)"'


@when(parsers.re(r"(?P<names>\".*\") join " + SWARM + " in that order"))
def join_in_order(world: World, names: str, swarm: str) -> None:
    for name in quoted(names):
        world.ensure_agent(name)
        if world.attempt(JoinSwarm, swarm_id=world.id(swarm), agent_id=world.id(name)) is None:
            return


@when(parsers.re(NAME + " leaves " + SWARM))
def leaves(world: World, name: str, swarm: str) -> None:
    world.attempt(LeaveSwarm, swarm_id=world.id(swarm), agent_id=world.id(name), reason="done")


@when(parsers.re(r"I scale " + SWARM + r" to (?P<size>\d+) agents"))
def scale(world: World, swarm: str, size: str) -> None:
    world.attempt(ScaleSwarm, swarm_id=world.id(swarm), max_agents=int(size))


@when(parsers.re(r"I shut down " + SWARM))
def shut_down(world: World, swarm: str) -> None:
    world.attempt(ShutdownSwarm, swarm_id=world.id(swarm), reason="work is over")


@given(parsers.re(SWARM + " has been shut down"))
def has_been_shut_down(world: World, swarm: str) -> None:
    world.do(ShutdownSwarm, swarm_id=world.id(swarm), reason="work is over")


@when(parsers.re(r'I ask for the path from "(?P<a>[^"]+)" to "(?P<b>[^"]+)" in ' + SWARM))
def ask_path(world: World, a: str, b: str, swarm: str) -> None:
    path = world.swarm(swarm).optimal_path(world.id(a), world.id(b))
    world.answer = [world.name_of(step) for step in path]


@when(parsers.re("I look at the load distribution of " + SWARM))
def look_at_load(world: World, swarm: str) -> None:
    world.answer = world.swarm(swarm).load_distribution(world.member_loads(swarm))


@then(parsers.re(r"the path is (?P<path>.+)"))
def path_is(world: World, path: str) -> None:
    assert world.answer == words(path)


@then(parsers.re(r"the hierarchy of " + SWARM + " is:"))
def hierarchy_is(world: World, swarm: str, datatable: list[list[str]]) -> None:
    members = world.swarm(swarm).members
    actual = {
        world.name_of(agent): (
            world.name_of(m["parent_id"]) if m["parent_id"] else "",
            m["depth"],
        )
        for agent, m in members.items()
    }
    _, *rows = datatable
    expected = {agent: (parent, int(depth)) for agent, parent, depth in rows}
    assert actual == expected


@then(parsers.re(r"the leader of " + SWARM + ' is "(?P<leader>[^"]+)"'))
def leader_is(world: World, swarm: str, leader: str) -> None:
    assert world.name_of(world.swarm(swarm).leader_id) == leader


@then(parsers.re(SWARM + r" has (?P<count>\d+) members?"))
def member_count(world: World, swarm: str, count: str) -> None:
    assert len(world.swarm(swarm).members) == int(count)


@then("the loads are:")
def loads_are(world: World, datatable: list[list[str]]) -> None:
    _, *rows = datatable
    actual = {world.name_of(UUID(m)): load for m, load in world.answer["per_member"].items()}
    assert actual == {agent: int(load) for agent, load in rows}


@then(
    parsers.re(
        r"the total load is (?P<total>\d+), the mean (?P<mean>[\d.]+), "
        r"the highest (?P<high>\d+) and the lowest (?P<low>\d+)"
    )
)
def load_summary(world: World, total: str, mean: str, high: str, low: str) -> None:
    dist = world.answer
    assert (dist["total"], dist["max"], dist["min"]) == (int(total), int(high), int(low))
    assert abs(dist["mean"] - float(mean)) < 1e-9


@then(parsers.re(r"the imbalance is about (?P<value>[\d.]+)"))
def imbalance(world: World, value: str) -> None:
    assert round(world.answer["imbalance"], 2) == float(value)
