"""Bad input to every mutation over the real HTTP API, as admin: each is refused with
its stable code, and a refused mutation writes nothing to the log.

- a missing required argument or one of the wrong GraphQL type: a GraphQL error
  (HTTP 200 or 400), the resolver never runs;
- an unknown id: NOT_FOUND;
- a command the aggregate's state does not allow: INVALID_TRANSITION (or the more
  precise code of the rule: PROPOSAL_CLOSED, NOT_PARTICIPANT, ...);
- an oversized string, a malformed id or an out-of-range number: VALIDATION.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.support.server import Api, embedded_settings, running_api

ENTITY = {
    "spawnAgent": "agent",
    "transitionAgent": "agent",
    "pauseAgent": "agent",
    "resumeAgent": "agent",
    "terminateAgent": "agent",
    "initSwarm": "swarm",
    "joinSwarm": "swarm",
    "leaveSwarm": "swarm",
    "scaleSwarm": "swarm",
    "optimizeSwarm": "swarm",
    "shutdownSwarm": "swarm",
    "changeSwarmStrategy": "swarm",
    "createTask": "task",
    "assignTask": "task",
    "startTask": "task",
    "reportTaskProgress": "task",
    "completeTask": "task",
    "failTask": "task",
    "retryTask": "task",
    "cancelTask": "task",
    "timeOutTask": "task",
    "createProposal": "proposal",
    "castVote": "proposal",
    "closeExpiredProposal": "proposal",
    "rebuildProjection": "projection",
    "trainNeuralModel": "status",
    "activateNeuralModel": "status",
    "exportNeuralModel": "status",
    "importNeuralModel": "status",
}
"""Every mutation and the entity field of its payload."""

NEURAL_FILES = ("exportNeuralModel", "importNeuralModel")
"""Files are not looked up by id: a missing one is MODEL_FILE_INVALID, not NOT_FOUND."""
HUGE = "x" * 100_000
LONG = "y" * 10_001
"""Longer than any LongText (a reason, a result, an error: at most 10,000)."""
UNKNOWN = str(uuid4())
PLACEHOLDER = re.compile(r"<(\w+)>")


def document(field: str, args: str) -> str:
    arguments = f"({args})" if args else ""
    entity = ENTITY[field]
    return (
        f"mutation {{ {field}{arguments} "
        f"{{ {entity} {{ __typename }} errors {{ code message field }} }} }}"
    )


# -- the cases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    field: str
    label: str
    args: str
    code: str | None = None
    """The code of the payload's error; None: a GraphQL error instead."""
    mention: str = ""
    """A GraphQL error: a word its message must contain (the argument or the type)."""
    at_fault: str | None = None
    """A VALIDATION error: the field it names."""

    @property
    def id(self) -> str:
        return f"{self.field}-{self.label}"


def invalid(field: str, label: str, args: str, mention: str) -> Case:
    return Case(field, label, args, None, mention)


def refused(field: str, label: str, args: str, code: str, at_fault: str | None = None) -> Case:
    return Case(field, label, args, code, at_fault=at_fault)


NF, IT, VAL = "NOT_FOUND", "INVALID_TRANSITION", "VALIDATION"
SPAWN = 'name: "a", agentType: "coder", capabilities: ["python"]'
CREATE = 'description: "d", taskType: "code"'

CASES = [
    # spawnAgent
    invalid("spawnAgent", "missing-name", 'agentType: "coder", capabilities: ["x"]', "name"),
    invalid("spawnAgent", "missing-capabilities", 'name: "a", agentType: "coder"', "capabilities"),
    invalid("spawnAgent", "max-load-a-string", f'{SPAWN}, maxLoad: "two"', "Int"),
    invalid(
        "spawnAgent", "name-a-number", 'name: 5, agentType: "coder", capabilities: ["x"]', "String"
    ),
    invalid("spawnAgent", "max-load-beyond-int32", f"{SPAWN}, maxLoad: 2147483648", "Int"),
    refused(
        "spawnAgent",
        "name-huge",
        'name: "<huge>", agentType: "coder", capabilities: ["x"]',
        VAL,
        "name",
    ),
    refused(
        "spawnAgent", "name-blank", 'name: "   ", agentType: "coder", capabilities: ["x"]', VAL
    ),
    refused(
        "spawnAgent",
        "agent-type-huge",
        'name: "a", agentType: "<huge>", capabilities: ["x"]',
        VAL,
        "agent_type",
    ),
    refused(
        "spawnAgent",
        "agent-type-unknown",
        'name: "a", agentType: "wizard", capabilities: ["x"]',
        VAL,
        "agent_type",
    ),
    refused(
        "spawnAgent", "no-capabilities", 'name: "a", agentType: "coder", capabilities: []', VAL
    ),
    refused(
        "spawnAgent",
        "capability-too-long",
        f'name: "a", agentType: "coder", capabilities: ["{"c" * 65}"]',
        VAL,
    ),
    refused("spawnAgent", "max-load-negative", f"{SPAWN}, maxLoad: -1", VAL, "max_load"),
    refused("spawnAgent", "max-load-zero", f"{SPAWN}, maxLoad: 0", VAL, "max_load"),
    refused("spawnAgent", "max-load-101", f"{SPAWN}, maxLoad: 101", VAL, "max_load"),
    # transitionAgent
    invalid("transitionAgent", "missing-to-state", 'agentId: "<ready>"', "toState"),
    invalid("transitionAgent", "agent-id-a-boolean", 'agentId: true, toState: "paused"', "ID"),
    refused("transitionAgent", "unknown-agent", 'agentId: "<unknown>", toState: "paused"', NF),
    refused(
        "transitionAgent",
        "malformed-id",
        'agentId: "not-a-uuid", toState: "paused"',
        VAL,
        "agent_id",
    ),
    refused(
        "transitionAgent",
        "ready-to-initializing",
        'agentId: "<ready>", toState: "initializing"',
        IT,
    ),
    refused("transitionAgent", "terminated-to-ready", 'agentId: "<dead>", toState: "ready"', IT),
    # The domain names the field "state" here; a too long toState is "to_state".
    refused(
        "transitionAgent",
        "to-unknown-state",
        'agentId: "<ready>", toState: "flying"',
        VAL,
        "state",
    ),
    refused(
        "transitionAgent", "to-state-huge", 'agentId: "<ready>", toState: "<huge>"', VAL, "to_state"
    ),
    refused(
        "transitionAgent",
        "reason-huge",
        'agentId: "<ready>", toState: "paused", reason: "<long>"',
        VAL,
        "reason",
    ),
    # pauseAgent
    invalid("pauseAgent", "missing-agent-id", 'reason: "r"', "agentId"),
    invalid("pauseAgent", "reason-a-number", 'agentId: "<ready>", reason: 5', "String"),
    refused("pauseAgent", "unknown-agent", 'agentId: "<unknown>"', NF),
    refused("pauseAgent", "paused-already", 'agentId: "<paused>"', IT),
    refused("pauseAgent", "terminated", 'agentId: "<dead>"', IT),
    refused("pauseAgent", "agent-id-huge", 'agentId: "<huge>"', VAL, "agent_id"),
    refused("pauseAgent", "reason-huge", 'agentId: "<ready>", reason: "<long>"', VAL, "reason"),
    # resumeAgent
    invalid("resumeAgent", "missing-agent-id", "", "agentId"),
    invalid("resumeAgent", "agent-id-a-boolean", "agentId: true", "ID"),
    refused("resumeAgent", "unknown-agent", 'agentId: "<unknown>"', NF),
    refused("resumeAgent", "ready-not-paused", 'agentId: "<ready>"', IT),
    refused("resumeAgent", "terminated", 'agentId: "<dead>"', IT),
    refused("resumeAgent", "agent-id-huge", 'agentId: "<huge>"', VAL, "agent_id"),
    # terminateAgent
    invalid("terminateAgent", "missing-agent-id", 'reason: "r"', "agentId"),
    invalid("terminateAgent", "agent-id-a-list", "agentId: [1.5]", "ID"),
    refused("terminateAgent", "unknown-agent", 'agentId: "<unknown>"', NF),
    refused("terminateAgent", "terminated-already", 'agentId: "<dead>"', IT),
    refused("terminateAgent", "reason-huge", 'agentId: "<ready>", reason: "<long>"', VAL, "reason"),
    # initSwarm
    invalid("initSwarm", "missing-topology", 'name: "s"', "topology"),
    invalid(
        "initSwarm", "max-agents-a-string", 'name: "s", topology: "mesh", maxAgents: "ten"', "Int"
    ),
    refused("initSwarm", "name-huge", 'name: "<huge>", topology: "mesh"', VAL, "name"),
    refused("initSwarm", "unknown-topology", 'name: "s", topology: "blob"', VAL, "topology"),
    refused(
        "initSwarm",
        "unknown-strategy",
        'name: "s", topology: "mesh", strategy: "luck"',
        VAL,
        "strategy",
    ),
    refused("initSwarm", "max-agents-zero", 'name: "s", topology: "mesh", maxAgents: 0', VAL),
    refused("initSwarm", "max-agents-1001", 'name: "s", topology: "mesh", maxAgents: 1001', VAL),
    refused("initSwarm", "max-depth-zero", 'name: "s", topology: "mesh", maxDepth: 0', VAL),
    refused("initSwarm", "max-depth-11", 'name: "s", topology: "mesh", maxDepth: 11', VAL),
    refused(
        "initSwarm", "branching-negative", 'name: "s", topology: "mesh", branchingFactor: -1', VAL
    ),
    refused("initSwarm", "branching-51", 'name: "s", topology: "mesh", branchingFactor: 51', VAL),
    # joinSwarm
    invalid("joinSwarm", "missing-agent-id", 'swarmId: "<hive>"', "agentId"),
    invalid("joinSwarm", "swarm-id-a-boolean", 'swarmId: false, agentId: "<ready>"', "ID"),
    refused("joinSwarm", "unknown-swarm", 'swarmId: "<unknown>", agentId: "<ready>"', NF),
    refused("joinSwarm", "unknown-agent", 'swarmId: "<hive>", agentId: "<unknown>"', NF),
    refused("joinSwarm", "terminated-agent", 'swarmId: "<hive>", agentId: "<dead>"', IT),
    refused("joinSwarm", "shut-down-swarm", 'swarmId: "<down>", agentId: "<ready>"', IT),
    refused("joinSwarm", "member-already", 'swarmId: "<hive>", agentId: "<m1>"', "NOT_ALLOWED"),
    refused("joinSwarm", "swarm-id-huge", 'swarmId: "<huge>", agentId: "<ready>"', VAL, "swarm_id"),
    # leaveSwarm
    invalid("leaveSwarm", "missing-swarm-id", 'agentId: "<m1>"', "swarmId"),
    invalid(
        "leaveSwarm", "reason-a-number", 'swarmId: "<hive>", agentId: "<m1>", reason: 1', "String"
    ),
    refused("leaveSwarm", "unknown-swarm", 'swarmId: "<unknown>", agentId: "<m1>"', NF),
    refused("leaveSwarm", "not-a-member", 'swarmId: "<hive>", agentId: "<ready>"', NF),
    refused(
        "leaveSwarm",
        "reason-huge",
        'swarmId: "<hive>", agentId: "<m1>", reason: "<long>"',
        VAL,
        "reason",
    ),
    # scaleSwarm
    invalid("scaleSwarm", "missing-max-agents", 'swarmId: "<hive>"', "maxAgents"),
    invalid("scaleSwarm", "max-agents-a-float", 'swarmId: "<hive>", maxAgents: 2.5', "Int"),
    refused("scaleSwarm", "unknown-swarm", 'swarmId: "<unknown>", maxAgents: 5', NF),
    refused("scaleSwarm", "max-agents-zero", 'swarmId: "<hive>", maxAgents: 0', VAL, "max_agents"),
    refused(
        "scaleSwarm", "max-agents-1001", 'swarmId: "<hive>", maxAgents: 1001', VAL, "max_agents"
    ),
    refused("scaleSwarm", "shut-down-swarm", 'swarmId: "<down>", maxAgents: 5', IT),
    refused(
        "scaleSwarm", "below-its-members", 'swarmId: "<hive>", maxAgents: 1', "CAPACITY_EXCEEDED"
    ),
    # optimizeSwarm
    invalid("optimizeSwarm", "missing-swarm-id", "", "swarmId"),
    invalid("optimizeSwarm", "swarm-id-an-object", "swarmId: {id: 1}", "ID"),
    refused("optimizeSwarm", "unknown-swarm", 'swarmId: "<unknown>"', NF),
    refused("optimizeSwarm", "shut-down-swarm", 'swarmId: "<down>"', IT),
    refused("optimizeSwarm", "swarm-id-huge", 'swarmId: "<huge>"', VAL, "swarm_id"),
    # shutdownSwarm
    invalid("shutdownSwarm", "missing-swarm-id", 'reason: "r"', "swarmId"),
    invalid("shutdownSwarm", "swarm-id-a-boolean", "swarmId: true", "ID"),
    refused("shutdownSwarm", "unknown-swarm", 'swarmId: "<unknown>"', NF),
    refused("shutdownSwarm", "shut-down-already", 'swarmId: "<down>"', IT),
    refused("shutdownSwarm", "reason-huge", 'swarmId: "<hive>", reason: "<long>"', VAL, "reason"),
    # changeSwarmStrategy
    invalid("changeSwarmStrategy", "missing-strategy", 'swarmId: "<hive>"', "strategy"),
    invalid("changeSwarmStrategy", "strategy-a-number", 'swarmId: "<hive>", strategy: 3', "String"),
    refused(
        "changeSwarmStrategy", "unknown-swarm", 'swarmId: "<unknown>", strategy: "adaptive"', NF
    ),
    refused(
        "changeSwarmStrategy", "shut-down-swarm", 'swarmId: "<down>", strategy: "adaptive"', IT
    ),
    refused(
        "changeSwarmStrategy",
        "unknown-strategy",
        'swarmId: "<hive>", strategy: "luck"',
        VAL,
        "strategy",
    ),
    refused(
        "changeSwarmStrategy",
        "strategy-huge",
        'swarmId: "<hive>", strategy: "<huge>"',
        VAL,
        "strategy",
    ),
    # createTask
    invalid("createTask", "missing-task-type", 'description: "d"', "taskType"),
    invalid("createTask", "max-retries-a-string", f'{CREATE}, maxRetries: "3"', "Int"),
    invalid("createTask", "timeout-a-boolean", f"{CREATE}, timeoutSeconds: true", "Float"),
    refused(
        "createTask",
        "description-huge",
        'description: "<huge>", taskType: "code"',
        VAL,
        "description",
    ),
    refused(
        "createTask",
        "description-2001",
        f'description: "{"d" * 2001}", taskType: "code"',
        VAL,
        "description",
    ),
    refused(
        "createTask", "description-empty", 'description: "", taskType: "code"', VAL, "description"
    ),
    refused(
        "createTask", "task-type-huge", 'description: "d", taskType: "<huge>"', VAL, "task_type"
    ),
    refused("createTask", "unknown-priority", f'{CREATE}, priority: "whenever"', VAL, "priority"),
    refused(
        "createTask",
        "capability-too-long",
        f'{CREATE}, requiredCapabilities: ["{"c" * 65}"]',
        VAL,
    ),
    refused("createTask", "max-retries-negative", f"{CREATE}, maxRetries: -1", VAL, "max_retries"),
    refused("createTask", "max-retries-21", f"{CREATE}, maxRetries: 21", VAL, "max_retries"),
    refused("createTask", "timeout-zero", f"{CREATE}, timeoutSeconds: 0", VAL, "timeout_seconds"),
    refused(
        "createTask",
        "timeout-a-day-and-more",
        f"{CREATE}, timeoutSeconds: 86401",
        VAL,
        "timeout_seconds",
    ),
    refused("createTask", "unknown-dependency", f'{CREATE}, dependencies: ["<unknown>"]', NF),
    refused("createTask", "malformed-dependency", f'{CREATE}, dependencies: ["nope"]', VAL),
    refused("createTask", "unknown-swarm", f'{CREATE}, swarmId: "<unknown>"', NF),
    # assignTask
    invalid("assignTask", "missing-task-id", 'agentId: "<worker>"', "taskId"),
    invalid("assignTask", "agent-id-a-boolean", 'taskId: "<queued>", agentId: true', "ID"),
    refused("assignTask", "unknown-task", 'taskId: "<unknown>", agentId: "<worker>"', NF),
    refused("assignTask", "unknown-agent", 'taskId: "<queued>", agentId: "<unknown>"', NF),
    refused("assignTask", "unknown-swarm", 'taskId: "<queued>", swarmId: "<unknown>"', NF),
    refused("assignTask", "paused-agent", 'taskId: "<queued>", agentId: "<paused>"', IT),
    refused("assignTask", "completed-task", 'taskId: "<done>", agentId: "<worker>"', IT),
    refused(
        "assignTask",
        "strategy-huge",
        'taskId: "<queued>", strategy: "<huge>", swarmId: "<hive>"',
        VAL,
        "strategy",
    ),
    # startTask
    invalid("startTask", "missing-task-id", "", "taskId"),
    invalid("startTask", "task-id-a-boolean", "taskId: false", "ID"),
    refused("startTask", "unknown-task", 'taskId: "<unknown>"', NF),
    refused("startTask", "queued-task", 'taskId: "<queued>"', IT),
    refused("startTask", "completed-task", 'taskId: "<done>"', IT),
    refused("startTask", "task-id-huge", 'taskId: "<huge>"', VAL, "task_id"),
    # reportTaskProgress
    invalid("reportTaskProgress", "missing-percent", 'taskId: "<running>"', "percent"),
    invalid(
        "reportTaskProgress", "percent-a-string", 'taskId: "<running>", percent: "half"', "Int"
    ),
    refused("reportTaskProgress", "unknown-task", 'taskId: "<unknown>", percent: 10', NF),
    refused("reportTaskProgress", "queued-task", 'taskId: "<queued>", percent: 10', IT),
    refused(
        "reportTaskProgress", "percent-150", 'taskId: "<running>", percent: 150', VAL, "percent"
    ),
    refused(
        "reportTaskProgress", "percent-negative", 'taskId: "<running>", percent: -1', VAL, "percent"
    ),
    refused(
        "reportTaskProgress",
        "progress-going-down",
        'taskId: "<running>", percent: 10',
        VAL,
        "percent",
    ),
    # completeTask
    invalid("completeTask", "missing-task-id", 'result: "r"', "taskId"),
    invalid("completeTask", "result-a-number", 'taskId: "<running>", result: 1', "String"),
    refused("completeTask", "unknown-task", 'taskId: "<unknown>"', NF),
    refused("completeTask", "queued-task", 'taskId: "<queued>"', IT),
    refused("completeTask", "completed-task", 'taskId: "<done>"', IT),
    refused("completeTask", "result-huge", 'taskId: "<running>", result: "<long>"', VAL, "result"),
    # failTask
    invalid("failTask", "missing-task-id", 'error: "e"', "taskId"),
    invalid("failTask", "error-a-boolean", 'taskId: "<running>", error: true', "String"),
    refused("failTask", "unknown-task", 'taskId: "<unknown>"', NF),
    refused("failTask", "queued-task", 'taskId: "<queued>"', IT),
    refused("failTask", "completed-task", 'taskId: "<done>"', IT),
    refused("failTask", "error-huge", 'taskId: "<running>", error: "<long>"', VAL, "error"),
    # retryTask
    invalid("retryTask", "missing-task-id", "", "taskId"),
    invalid("retryTask", "task-id-a-float", "taskId: 1.5", "ID"),
    refused("retryTask", "unknown-task", 'taskId: "<unknown>"', NF),
    refused("retryTask", "queued-task", 'taskId: "<queued>"', IT),
    refused("retryTask", "completed-task", 'taskId: "<done>"', IT),
    refused("retryTask", "task-id-huge", 'taskId: "<huge>"', VAL, "task_id"),
    # cancelTask
    invalid("cancelTask", "missing-task-id", 'reason: "r"', "taskId"),
    invalid("cancelTask", "reason-a-number", 'taskId: "<queued>", reason: 2', "String"),
    refused("cancelTask", "unknown-task", 'taskId: "<unknown>"', NF),
    refused("cancelTask", "completed-task", 'taskId: "<done>"', IT),
    refused("cancelTask", "reason-huge", 'taskId: "<queued>", reason: "<long>"', VAL, "reason"),
    # timeOutTask
    invalid("timeOutTask", "missing-task-id", "", "taskId"),
    invalid("timeOutTask", "task-id-a-boolean", "taskId: true", "ID"),
    refused("timeOutTask", "unknown-task", 'taskId: "<unknown>"', NF),
    refused("timeOutTask", "queued-task", 'taskId: "<queued>"', IT),
    refused("timeOutTask", "running-within-its-timeout", 'taskId: "<running>"', IT),
    refused("timeOutTask", "completed-task", 'taskId: "<done>"', IT),
    refused("timeOutTask", "task-id-huge", 'taskId: "<huge>"', VAL, "task_id"),
    # createProposal
    invalid(
        "createProposal",
        "missing-title",
        'swarmId: "<hive>", proposerId: "<m1>", value: 1',
        "title",
    ),
    invalid(
        "createProposal",
        "ttl-a-string",
        'swarmId: "<hive>", proposerId: "<m1>", title: "t", value: 1, ttlSeconds: "1h"',
        "Float",
    ),
    refused(
        "createProposal",
        "unknown-swarm",
        'swarmId: "<unknown>", proposerId: "<m1>", title: "t", value: 1',
        NF,
    ),
    refused(
        "createProposal",
        "proposer-not-a-member",
        'swarmId: "<hive>", proposerId: "<ready>", title: "t", value: 1',
        "NOT_PARTICIPANT",
    ),
    refused(
        "createProposal",
        "title-huge",
        'swarmId: "<hive>", proposerId: "<m1>", title: "<huge>", value: 1',
        VAL,
        "title",
    ),
    refused(
        "createProposal",
        "ttl-zero",
        'swarmId: "<hive>", proposerId: "<m1>", title: "t", value: 1, ttlSeconds: 0',
        VAL,
        "ttl_seconds",
    ),
    refused(
        "createProposal",
        "ttl-negative",
        'swarmId: "<hive>", proposerId: "<m1>", title: "t", value: 1, ttlSeconds: -5',
        VAL,
        "ttl_seconds",
    ),
    refused(
        "createProposal",
        "ttl-over-30-days",
        'swarmId: "<hive>", proposerId: "<m1>", title: "t", value: 1, ttlSeconds: 2592001',
        VAL,
        "ttl_seconds",
    ),
    invalid(
        "createProposal",
        "value-missing",
        'swarmId: "<hive>", proposerId: "<m1>", title: "t"',
        "value",
    ),
    refused(
        "createProposal",
        "unknown-protocol",
        'swarmId: "<hive>", proposerId: "<m1>", title: "t", value: 1, protocol: "dice"',
        VAL,
        "protocol",
    ),
    # castVote
    invalid("castVote", "missing-approve", 'proposalId: "<open>", voterId: "<m2>"', "approve"),
    invalid(
        "castVote",
        "approve-a-string",
        'proposalId: "<open>", voterId: "<m2>", approve: "yes"',
        "Boolean",
    ),
    refused(
        "castVote",
        "unknown-proposal",
        'proposalId: "<unknown>", voterId: "<m2>", approve: true',
        NF,
    ),
    refused(
        "castVote",
        "not-a-participant",
        'proposalId: "<open>", voterId: "<ready>", approve: true',
        "NOT_PARTICIPANT",
    ),
    refused(
        "castVote",
        "voted-already",
        'proposalId: "<open>", voterId: "<m1>", approve: false',
        "ALREADY_VOTED",
    ),
    refused(
        "castVote",
        "decided-proposal",
        'proposalId: "<decided>", voterId: "<solo>", approve: true',
        "PROPOSAL_CLOSED",
    ),
    refused(
        "castVote",
        "voter-id-huge",
        'proposalId: "<open>", voterId: "<huge>", approve: true',
        VAL,
        "voter_id",
    ),
    # closeExpiredProposal
    invalid("closeExpiredProposal", "missing-proposal-id", "", "proposalId"),
    invalid("closeExpiredProposal", "proposal-id-a-boolean", "proposalId: true", "ID"),
    refused("closeExpiredProposal", "unknown-proposal", 'proposalId: "<unknown>"', NF),
    refused("closeExpiredProposal", "open-before-its-deadline", 'proposalId: "<open>"', IT),
    refused(
        "closeExpiredProposal", "decided-proposal", 'proposalId: "<decided>"', "PROPOSAL_CLOSED"
    ),
    refused("closeExpiredProposal", "proposal-id-huge", 'proposalId: "<huge>"', VAL, "proposal_id"),
    # rebuildProjection
    invalid("rebuildProjection", "missing-name", "", "name"),
    invalid("rebuildProjection", "name-a-number", "name: 7", "String"),
    refused("rebuildProjection", "unknown-projection", 'name: "no-such-projection"', NF),
    # No VALIDATION here: any name that is not a projection's is NOT_FOUND, however long.
    refused("rebuildProjection", "name-huge", 'name: "<huge>"', NF, "name"),
    refused("rebuildProjection", "name-empty", 'name: ""', NF, "name"),
    # trainNeuralModel (its one argument is optional; an empty log trains nothing)
    invalid("trainNeuralModel", "unknown-argument", "epochs: 3", "epochs"),
    invalid("trainNeuralModel", "full-a-string", 'full: "yes"', "Boolean"),
    # activateNeuralModel
    invalid("activateNeuralModel", "missing-version", "", "version"),
    invalid("activateNeuralModel", "version-a-string", 'version: "one"', "Int"),
    refused("activateNeuralModel", "unknown-version", "version: 999", NF, "version"),
    refused("activateNeuralModel", "version-zero", "version: 0", NF, "version"),
    # exportNeuralModel: paths are confined to the model directory
    invalid("exportNeuralModel", "missing-path", "", "path"),
    invalid("exportNeuralModel", "path-a-number", "path: 7", "String"),
    refused("exportNeuralModel", "path-outside", 'path: "../../etc/passwd"', VAL, "path"),
    refused("exportNeuralModel", "path-absolute", 'path: "/tmp/x.model"', VAL, "path"),
    refused("exportNeuralModel", "path-huge", 'path: "<huge>"', VAL, "path"),
    refused("exportNeuralModel", "no-active-model", 'path: "out.model"', "NO_ACTIVE_MODEL"),
    # importNeuralModel
    invalid("importNeuralModel", "missing-path", "", "path"),
    invalid("importNeuralModel", "path-a-number", "path: 7", "String"),
    refused("importNeuralModel", "path-outside", 'path: "../x.model"', VAL, "path"),
    refused(
        "importNeuralModel", "missing-file", 'path: "nothing-here.model"', "MODEL_FILE_INVALID"
    ),
]


# -- the server, its log and the seeded world ----------------------------------------


class EventLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def count(self) -> int:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_api(embedded_settings(tmp_path_factory.mktemp("bad-input"))) as server:
        yield server


@pytest.fixture(scope="module")
def log(api: Api) -> EventLog:
    return EventLog(api.settings.sqlite_path)


def _run(api: Api, field: str, args: str, world: dict[str, str]) -> str:
    """Run a seeding mutation that must succeed; the id of its entity."""
    entity = ENTITY[field]
    body = api.graphql(
        f"mutation {{ {field}({args}) {{ {entity} {{ id }} position errors {{ code message }} }} }}"
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    assert payload["errors"] == [], (field, args, payload["errors"])
    world["position"] = str(payload["position"])
    return str(payload[entity]["id"])


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, str]:
    """Agents, swarms, tasks and proposals in the states the cases need, by name."""
    ids: dict[str, str] = {"huge": HUGE, "long": LONG, "unknown": UNKNOWN}

    def run(field: str, args: str) -> str:
        return _run(api, field, PLACEHOLDER.sub(lambda found: ids[found.group(1)], args), ids)

    for name in ("ready", "paused", "dead", "m1", "m2", "m3", "solo", "worker"):
        ids[name] = run(
            "spawnAgent",
            f'name: "{name}", agentType: "coder", capabilities: ["python"], maxLoad: 5',
        )
    run("pauseAgent", 'agentId: "<paused>"')
    run("terminateAgent", 'agentId: "<dead>"')

    for name in ("hive", "lonely", "down"):
        ids[name] = run("initSwarm", f'name: "{name}", topology: "mesh"')
    for member in ("m1", "m2", "m3"):
        run("joinSwarm", f'swarmId: "<hive>", agentId: "<{member}>"')
    run("joinSwarm", 'swarmId: "<lonely>", agentId: "<solo>"')
    run("shutdownSwarm", 'swarmId: "<down>"')

    for name in ("queued", "running", "done"):
        ids[name] = run(
            "createTask",
            f'description: "{name}", taskType: "code", requiredCapabilities: ["python"]',
        )
    for name in ("running", "done"):
        run("assignTask", f'taskId: "<{name}>", agentId: "<worker>"')
        run("startTask", f'taskId: "<{name}>"')
    run("reportTaskProgress", 'taskId: "<running>", percent: 40')
    run("completeTask", 'taskId: "<done>"')

    # Three participants: one approval of a majority leaves "open" open.
    ids["open"] = run(
        "createProposal", 'swarmId: "<hive>", proposerId: "<m1>", title: "open", value: 1'
    )
    run("castVote", 'proposalId: "<open>", voterId: "<m1>", approve: true')
    # One participant: its approval decides "decided".
    ids["decided"] = run(
        "createProposal", 'swarmId: "<lonely>", proposerId: "<solo>", title: "decided", value: 1'
    )
    run("castVote", 'proposalId: "<decided>", voterId: "<solo>", approve: true')
    return ids


def _fill(template: str, world: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda found: world[found.group(1)], template)


# -- the tests -----------------------------------------------------------------------


def test_the_cases_cover_every_mutation_in_every_way(api: Api) -> None:
    body = api.graphql("{ __schema { mutationType { fields { name } } } }")
    schema = {f["name"] for f in body["data"]["__schema"]["mutationType"]["fields"]}
    assert schema == set(ENTITY), "ENTITY lists exactly the schema's mutations"
    for field in ENTITY:
        mine = [case for case in CASES if case.field == field]
        if field != "trainNeuralModel":  # no required argument to leave out
            assert any(c.code is None and c.label.startswith("missing") for c in mine), field
        assert any(c.code is None and not c.label.startswith("missing") for c in mine), field
        if field not in ("rebuildProjection", "trainNeuralModel", "activateNeuralModel"):
            assert any(c.code == "VALIDATION" for c in mine), field
        if field not in ("spawnAgent", "initSwarm", *NEURAL_FILES, "trainNeuralModel"):
            assert any(c.code == "NOT_FOUND" for c in mine), field
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_the_seeded_world_is_in_the_states_the_cases_assume(
    api: Api, world: dict[str, str]
) -> None:
    read = """
    query($ready: ID!, $paused: ID!, $dead: ID!, $down: ID!, $hive: ID!, $queued: ID!,
          $running: ID!, $done: ID!, $open: ID!, $decided: ID!, $at: Position) {
      ready: agent(id: $ready, atLeast: $at) { state }
      paused: agent(id: $paused, atLeast: $at) { state }
      dead: agent(id: $dead, atLeast: $at) { state }
      down: swarm(id: $down, atLeast: $at) { status }
      hive: swarm(id: $hive, atLeast: $at) { status memberCount }
      queued: task(id: $queued, atLeast: $at) { status }
      running: task(id: $running, atLeast: $at) { status progress }
      done: task(id: $done, atLeast: $at) { status }
      open: proposal(id: $open, atLeast: $at) { status }
      decided: proposal(id: $decided, atLeast: $at) { status }
    }
    """
    names = ("ready", "paused", "dead", "down", "hive", "queued", "running", "done")
    variables: dict[str, Any] = {name: world[name] for name in (*names, "open", "decided")}
    variables["at"] = int(world["position"])
    body = api.graphql(read, variables)
    assert "errors" not in body, body
    data = body["data"]
    assert [data[a]["state"] for a in ("ready", "paused", "dead")] == [
        "ready",
        "paused",
        "terminated",
    ]
    assert data["down"]["status"] == "shut_down"
    assert data["hive"] == {"status": "active", "memberCount": 3}
    assert data["queued"]["status"] == "queued"
    assert data["running"] == {"status": "running", "progress": 40}
    assert data["done"]["status"] == "completed"
    assert (data["open"]["status"], data["decided"]["status"]) == ("open", "accepted")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_is_refused_and_writes_nothing(
    api: Api, log: EventLog, world: dict[str, str], case: Case
) -> None:
    before = log.count()
    response = api.post(
        _fill(document(case.field, case.args), world),
        headers={"Authorization": f"Bearer {api.token('admin')}"},
    )

    body = response.json()
    if case.code is None:
        assert response.status_code in (200, 400), response.text
        assert body.get("errors"), body
        assert body.get("data") is None, body
        message = body["errors"][0]["message"]
        assert case.mention in message, message
    else:
        assert response.status_code == 200, response.text
        assert "errors" not in body, body
        payload = body["data"][case.field]
        assert payload[ENTITY[case.field]] is None, payload
        assert payload["errors"], payload
        error = payload["errors"][0]
        assert error["code"] == case.code, error
        if case.at_fault is not None:
            assert error["field"] == case.at_fault, error
        assert len(error["message"]) < 1000, "the message echoes the oversized input"
    assert log.count() == before, "a refused mutation wrote to the log"
