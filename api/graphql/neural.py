"""The neural engine over GraphQL: predictions and status for readers (``neural:read``),
training, activation, export and import for admins (``neural:train``, ``neural:activate``,
``neural:export``, ``neural:import``).

Export and import paths are on the server, so they are confined to
``settings.neural_model_dir``: a relative path is taken inside it, and anything that
resolves outside it (``..``, an absolute path elsewhere, a symlink out) is refused
with VALIDATION. An API caller must not be able to make the server read or overwrite
arbitrary files; the CLI, run by an operator on the host, takes any path.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import UserError, parse_id
from api.graphql.scalars import Position
from domain.errors import DomainError, ValidationError


@strawberry.type(description="A prediction: class probabilities and a confidence.")
class OutcomePrediction:
    label: str
    labels: list[str]
    probabilities: list[float]
    probability_completed: float
    confidence: float = strawberry.field(description="1 - entropy / max entropy.")
    model_version: int


@strawberry.type(description="An agent ranked by its probability of completing the task.")
class AgentRecommendation:
    agent_id: strawberry.ID
    name: str
    probability: float
    confidence: float
    model_version: int


@strawberry.type(description="One model version: what it learned from and how well it did.")
class ModelVersionNode:
    number: int
    kind: str
    first_position: Position
    last_position: Position
    examples: int
    accuracy: float | None = strawberry.field(description="Held-out outcome accuracy.")
    metrics: str = strawberry.field(description="Held-out metrics of every pattern (JSON).")
    hyperparameters: str = strawberry.field(description="JSON.")
    feature_version: int
    sha256: str
    source: str
    active: bool

    @classmethod
    def of(cls, entry: dict[str, Any], active: int | None) -> ModelVersionNode:
        return cls(
            number=entry["number"],
            kind=entry["kind"],
            first_position=entry["first_position"],
            last_position=entry["last_position"],
            examples=entry["examples"],
            accuracy=entry["metrics"].get("outcome", {}).get("accuracy"),
            metrics=json.dumps(entry["metrics"]),
            hyperparameters=json.dumps(entry["hyperparameters"]),
            feature_version=entry["feature_version"],
            sha256=entry["sha256"],
            source=entry["source"],
            active=entry["number"] == active,
        )


@strawberry.type(description="The registry of model versions and the example consumer.")
class NeuralStatus:
    active: int | None
    history: list[ModelVersionNode] = strawberry.field(description="Every version, oldest first.")
    examples: int
    checkpoint: Position
    head: Position

    @classmethod
    def of(cls, found: dict[str, Any]) -> NeuralStatus:
        return cls(
            active=found["active"],
            history=[ModelVersionNode.of(v, found["active"]) for v in found["versions"]],
            examples=found["examples"],
            checkpoint=found["checkpoint"],
            head=found["head"],
        )


@strawberry.type
class NeuralPayload:
    status: NeuralStatus | None
    version: int | None
    errors: list[UserError]


@strawberry.type
class NeuralFilePayload:
    status: NeuralStatus | None
    path: str | None
    sha256: str | None
    errors: list[UserError]


def confined(model_dir: Path, path: str) -> Path:
    """``path`` inside ``model_dir`` (VALIDATION if it would leave it)."""
    if not path.strip() or len(path) > 500 or "\x00" in path:
        raise ValidationError("path must be 1 to 500 characters", field="path")
    base = model_dir.resolve()
    found = (base / path).resolve()
    if not found.is_relative_to(base) or found == base:
        raise ValidationError(
            f"path must name a file inside the model directory ({model_dir})", field="path"
        )
    return found


@strawberry.type
class NeuralQueries:
    @strawberry.field(description="P(completed) of a task if the agent took it now.")
    async def predict_task_outcome(
        self, info: Info[Context, Any], task_id: strawberry.ID, agent_id: strawberry.ID
    ) -> OutcomePrediction:
        context: Context = info.context
        await context.read("neural:read", info.field_name)
        try:
            task, agent = parse_id(task_id, "taskId"), parse_id(agent_id, "agentId")
            service = context.runtime.swarmlog.neural()
            found = await asyncio.to_thread(service.predict_outcome, task, agent)
        except DomainError as error:
            raise context.error(error) from None
        return OutcomePrediction(
            label=found.label,
            labels=list(found.labels),
            probabilities=list(found.probabilities),
            probability_completed=found.probabilities[-1],
            confidence=found.confidence,
            model_version=found.model_version,
        )

    @strawberry.field(description="The k agents of the task's swarm most likely to complete it.")
    async def recommend_agents(
        self, info: Info[Context, Any], task_id: strawberry.ID, k: int = 3
    ) -> list[AgentRecommendation]:
        context: Context = info.context
        await context.read("neural:read", info.field_name)
        try:
            task = parse_id(task_id, "taskId")
            service = context.runtime.swarmlog.neural()
            found = await asyncio.to_thread(service.recommend, task, k)
        except DomainError as error:
            raise context.error(error) from None
        return [
            AgentRecommendation(
                agent_id=strawberry.ID(r.agent_id),
                name=r.name,
                probability=r.probability,
                confidence=r.confidence,
                model_version=r.model_version,
            )
            for r in found
        ]

    @strawberry.field(description="Model versions (the training history) and the active one.")
    async def neural_status(self, info: Info[Context, Any]) -> NeuralStatus:
        context: Context = info.context
        await context.read("neural:read", info.field_name)
        found = await asyncio.to_thread(context.runtime.swarmlog.neural().status)
        return NeuralStatus.of(found)


async def _admin(info: Info[Context, Any], permission: str) -> None:
    context: Context = info.context
    await context.require(permission, info.field_name)


def _refused(context: Context, error: DomainError) -> list[UserError]:
    context.runtime.metrics.graphql_errors.labels(error.code).inc()
    return [UserError.of(error)]


@strawberry.type
class NeuralMutations:
    @strawberry.mutation(
        description="Train now: an update from the new examples, or a full retraining."
    )
    async def train_neural_model(
        self, info: Info[Context, Any], full: bool = False
    ) -> NeuralPayload:
        context: Context = info.context
        try:
            await _admin(info, "neural:train")
            service = context.runtime.swarmlog.neural()
            version = await asyncio.to_thread(service.retrain if full else service.follow_once)
            found = await asyncio.to_thread(service.status)
        except DomainError as error:
            return NeuralPayload(status=None, version=None, errors=_refused(context, error))
        number = None if version is None else version.number
        return NeuralPayload(status=NeuralStatus.of(found), version=number, errors=[])

    @strawberry.mutation(description="Make a recorded model version the active one.")
    async def activate_neural_model(self, info: Info[Context, Any], version: int) -> NeuralPayload:
        context: Context = info.context
        try:
            await _admin(info, "neural:activate")
            found = await asyncio.to_thread(context.runtime.swarmlog.neural().activate, version)
        except DomainError as error:
            return NeuralPayload(status=None, version=None, errors=_refused(context, error))
        return NeuralPayload(status=NeuralStatus.of(found), version=version, errors=[])

    @strawberry.mutation(description="Write the active model to a file in the model directory.")
    async def export_neural_model(self, info: Info[Context, Any], path: str) -> NeuralFilePayload:
        return await _file(info, "neural:export", path, export=True)

    @strawberry.mutation(
        description="Verify a model file of the model directory, record it and activate it."
    )
    async def import_neural_model(self, info: Info[Context, Any], path: str) -> NeuralFilePayload:
        return await _file(info, "neural:import", path, export=False)


async def _file(
    info: Info[Context, Any], permission: str, path: str, *, export: bool
) -> NeuralFilePayload:
    context: Context = info.context
    try:
        await _admin(info, permission)
        service = context.runtime.swarmlog.neural()
        where = confined(service.model_dir, path)
        run = service.export if export else service.import_
        done = await asyncio.to_thread(run, where)
        found = await asyncio.to_thread(service.status)
    except DomainError as error:
        return NeuralFilePayload(
            status=None, path=None, sha256=None, errors=_refused(context, error)
        )
    return NeuralFilePayload(
        status=NeuralStatus.of(found), path=done["path"], sha256=done["sha256"], errors=[]
    )
