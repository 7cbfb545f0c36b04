"""Scale-out with real processes: two API replicas (uvicorn, `swarmlog serve --no-worker`)
and two projection workers (`swarmlog worker`) on one PostgreSQL event store and one
PostgreSQL read-model database."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Cluster, running_cluster, wait_for

pytestmark = pytest.mark.postgres

SPAWN = """mutation($n: String!) { spawnAgent(name: $n, agentType: "coder",
  capabilities: ["python"], maxLoad: 5) { agent { id } position errors { code } } }"""


@pytest.fixture
def cluster(postgres: dict[str, Any], tmp_path: Path) -> Iterator[Cluster]:
    # four processes and PostgreSQL on a CI machine's two cores: the read models may
    # take longer than the default 5 s to reach a position, and that is not the test
    with running_cluster(postgres, tmp_path, read_wait=60) as cluster:
        yield cluster


def test_concurrent_mutations_through_both_replicas_lose_nothing(cluster: Cluster) -> None:
    def spawn(i: int) -> dict[str, Any]:
        payload: dict[str, Any] = cluster.graphql("ab"[i % 2], SPAWN, {"n": f"agent-{i}"})
        return payload["spawnAgent"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        spawned = list(pool.map(spawn, range(60)))
    assert all(s["errors"] == [] for s in spawned)
    ids = {s["agent"]["id"] for s in spawned}
    assert len(ids) == 60
    head = max(s["position"] for s in spawned)

    # one task, offered to ten agents at once through both replicas: exactly one wins
    task = cluster.graphql(
        "a", 'mutation { createTask(description: "t", taskType: "code") { task { id } } }'
    )["createTask"]["task"]["id"]
    assign = """mutation($t: ID!, $a: ID!) { assignTask(taskId: $t, agentId: $a) {
      task { agentId } errors { code } } }"""
    agents = sorted(ids)[:10]

    def offer(i: int) -> dict[str, Any]:
        payload: dict[str, Any] = cluster.graphql("ab"[i % 2], assign, {"t": task, "a": agents[i]})
        return payload["assignTask"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        offers = list(pool.map(offer, range(10)))
    winners = [o for o in offers if not o["errors"]]
    assert len(winners) == 1
    assert {o["errors"][0]["code"] for o in offers if o["errors"]} <= {
        "INVALID_TRANSITION",
        "CONFLICT",
    }

    # every agent the replicas said they spawned is in the log and in the read model
    log = cluster.graphql(
        "b", '{ eventLog(types: ["Agent.Spawned"], first: 1000) { nodes { streamId } } }'
    )["eventLog"]["nodes"]
    assert sorted(n["streamId"] for n in log) == sorted(ids)
    read = cluster.graphql(
        "b",
        "query($at: Position) { agents(first: 200, atLeast: $at) { nodes { id } } }",
        {"at": head},
    )["agents"]["nodes"]
    assert {n["id"] for n in read} == ids
    task_now = cluster.graphql("a", f'{{ aggregateAt(streamId: "{task}") {{ state }} }}')
    assert task_now["aggregateAt"]["state"]["agent_id"] == winners[0]["task"]["agentId"]


def test_when_the_active_worker_is_killed_the_other_takes_over(cluster: Cluster) -> None:
    cluster.graphql("a", SPAWN, {"n": "first"})
    wait_for(
        lambda: all(cluster.owners().values()),
        120,
        "every projection claimed",
        explain=cluster.worker_logs,
    )
    owners = set(cluster.owners().values())
    pids = {worker.pid: worker for worker in cluster.workers}
    victims = [pid for pid in pids if any(o and o.endswith(f":{pid}") for o in owners)]
    assert victims, owners
    for pid in victims:
        pids[pid].send_signal(signal.SIGKILL)
        pids[pid].wait(timeout=30)
    survivors = [pid for pid in pids if pid not in victims]
    if not survivors:  # both held some: start a fresh one to take everything over
        survivors = [cluster.start_worker().pid]

    # no bound on how fast (a loaded machine starts a fresh worker slowly): only that
    # the survivors end up holding every projection, and that they keep it up to date
    wait_for(
        lambda: all(
            any(o and o.endswith(f":{pid}") for pid in survivors) for o in cluster.owners().values()
        ),
        120,
        "the surviving worker taking over every projection",
        explain=cluster.worker_logs,
    )
    position = cluster.graphql("b", SPAWN, {"n": "after"})["spawnAgent"]["position"]
    agents = cluster.graphql(
        "b", "query($at: Position) { agents(atLeast: $at) { nodes { name } } }", {"at": position}
    )["agents"]["nodes"]
    assert {n["name"] for n in agents} == {"first", "after"}


def test_a_replica_that_restarts_serves_the_same_data(cluster: Cluster) -> None:
    positions = [
        cluster.graphql("a", SPAWN, {"n": f"agent-{i}"})["spawnAgent"]["position"] for i in range(5)
    ]
    query = "query($at: Position) { agents(atLeast: $at) { nodes { id name state version } } }"
    before = cluster.graphql("a", query, {"at": max(positions)})
    port = cluster.kill_api("a")
    cluster.start_api("a", port)
    assert cluster.graphql("a", query, {"at": max(positions)}) == before
    assert cluster.graphql("b", query, {"at": max(positions)}) == before
