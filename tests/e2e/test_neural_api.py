"""The neural engine through the real HTTP API: train, status, predictions,
recommendations, export and import, activation, and the neural assignment strategy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import bootstrap
from application.simulation.config import load_config
from application.simulation.runner import simulate
from tests.support.server import Api, embedded_settings, running_api

STATUS = """{ neuralStatus { active examples checkpoint head
  history { number kind firstPosition lastPosition examples accuracy sha256 active } } }"""
TRAIN = """mutation($full: Boolean) { trainNeuralModel(full: $full) {
  version status { active } errors { code message } } }"""
PREDICT = """query($t: ID!, $a: ID!) { predictTaskOutcome(taskId: $t, agentId: $a) {
  label labels probabilities probabilityCompleted confidence modelVersion } }"""
EXPORT = """mutation { exportNeuralModel(path: "e2e.model") {
  path sha256 errors { code } } }"""
IMPORT = """mutation($p: String!) { importNeuralModel(path: $p) {
  status { active } errors { code } } }"""
ACTIVATE = """mutation($v: Int!) { activateNeuralModel(version: $v) {
  status { active } errors { code } } }"""
ASSIGN = """mutation($t: ID!, $s: ID!) {
  assignTask(taskId: $t, swarmId: $s, strategy: "neural") {
    task { status agentId assignmentStrategy assignmentNote } errors { code } } }"""
RECOMMEND = """query($t: ID!) { recommendAgents(taskId: $t, k: 3) {
  agentId name probability confidence modelVersion } }"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    directory = tmp_path_factory.mktemp("neural")
    settings = embedded_settings(directory)
    app = bootstrap(settings)
    simulate(app, load_config(None), agents=12, tasks=300, seed=4)
    app.close()
    with running_api(settings) as server:
        yield server


def ok(body: dict[str, Any], name: str) -> Any:
    assert "errors" not in body, body
    payload = body["data"][name]
    if isinstance(payload, dict) and payload.get("errors"):
        raise AssertionError(payload["errors"])
    return payload


def _open_task_in_a_swarm(api: Api) -> tuple[str, str]:
    """A new queued task in the first swarm, and that swarm's id."""
    swarm = ok(api.graphql("{ swarms(first: 1) { nodes { id } } }"), "swarms")["nodes"][0]["id"]
    created = ok(
        api.graphql(
            """mutation($s: ID!) { createTask(description: "probe", taskType: "code",
              requiredCapabilities: ["python"], swarmId: $s) { task { id } } }""",
            {"s": swarm},
        ),
        "createTask",
    )
    return created["task"]["id"], swarm


def test_a_session_with_the_neural_engine(api: Api) -> None:
    before = ok(api.graphql(STATUS, role="viewer"), "neuralStatus")
    head = before["head"]

    trained = ok(api.graphql(TRAIN, {"full": True}), "trainNeuralModel")
    version = trained["version"]
    assert trained["status"]["active"] == version
    status = ok(api.graphql(STATUS, role="viewer"), "neuralStatus")
    (entry,) = [v for v in status["history"] if v["number"] == version]
    assert entry["kind"] == "full"
    assert entry["active"]
    assert 0 < entry["firstPosition"] <= entry["lastPosition"] <= head
    assert entry["examples"] > 100
    assert entry["accuracy"] > 0.5

    denied = api.graphql(TRAIN, {"full": True}, role="operator")["data"]["trainNeuralModel"]
    assert denied["errors"][0]["code"] == "FORBIDDEN"

    task, _ = _open_task_in_a_swarm(api)
    recommended = ok(api.graphql(RECOMMEND, {"t": task}, role="viewer"), "recommendAgents")
    assert 1 <= len(recommended) <= 3
    chances = [r["probability"] for r in recommended]
    assert chances == sorted(chances, reverse=True)
    assert all(r["modelVersion"] == version for r in recommended)
    assert all(0.0 <= r["confidence"] <= 1.0 for r in recommended)

    best = recommended[0]["agentId"]
    prediction = ok(
        api.graphql(PREDICT, {"t": task, "a": best}, role="viewer"), "predictTaskOutcome"
    )
    assert sum(prediction["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    assert prediction["probabilityCompleted"] == pytest.approx(recommended[0]["probability"])
    assert prediction["label"] in prediction["labels"]

    # export, then import: a new active version that predicts exactly the same
    exported = ok(api.graphql(EXPORT), "exportNeuralModel")
    assert len(exported["sha256"]) == 64
    imported = ok(api.graphql(IMPORT, {"p": "e2e.model"}), "importNeuralModel")
    assert imported["status"]["active"] > version
    again = ok(api.graphql(PREDICT, {"t": task, "a": best}), "predictTaskOutcome")
    assert again["probabilities"] == pytest.approx(prediction["probabilities"], abs=1e-6)

    outside = api.graphql(IMPORT, {"p": "../../etc/passwd"})["data"]["importNeuralModel"]
    assert outside["errors"][0]["code"] == "VALIDATION"
    (Path(api.settings.neural_model_dir) / "junk.model").write_bytes(b"not a model")
    junk = api.graphql(IMPORT, {"p": "junk.model"})["data"]["importNeuralModel"]
    assert junk["errors"][0]["code"] == "MODEL_FILE_INVALID"
    status = ok(api.graphql(STATUS), "neuralStatus")
    assert status["active"] == imported["status"]["active"]  # unchanged by the refusals

    activated = ok(api.graphql(ACTIVATE, {"v": version}), "activateNeuralModel")
    assert activated["status"]["active"] == version
    unknown = api.graphql(ACTIVATE, {"v": 999})["data"]["activateNeuralModel"]
    assert unknown["errors"][0]["code"] == "NOT_FOUND"


def test_the_neural_strategy_assigns_and_says_why(api: Api) -> None:
    ok(api.graphql(TRAIN, {"full": True}), "trainNeuralModel")
    task, swarm = _open_task_in_a_swarm(api)
    assigned = ok(api.graphql(ASSIGN, {"t": task, "s": swarm}), "assignTask")["task"]
    assert assigned["status"] == "assigned"
    assert assigned["assignmentStrategy"] == "neural"
    assert assigned["assignmentNote"].startswith(("model v", "fallback:"))
