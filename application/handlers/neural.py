"""Handlers of the model registry's commands."""

from __future__ import annotations

from application.bus import Handler
from application.commands import ActivateModelVersion, Command, RecordModelVersion
from application.unit_of_work import UnitOfWork
from domain.errors import NotFound
from domain.neural import REGISTRY_ID, ModelRegistry


def registry_of(uow: UnitOfWork) -> ModelRegistry:
    """The one registry, opened (in the same save) by its first command."""
    try:
        return uow.get(ModelRegistry, REGISTRY_ID)
    except NotFound:
        return uow.add(ModelRegistry())


def record_model_version(command: RecordModelVersion, uow: UnitOfWork) -> ModelRegistry:
    registry = registry_of(uow)
    registry.record_version(
        number=command.number,
        kind=command.kind,
        first_position=command.first_position,
        last_position=command.last_position,
        examples=command.examples,
        metrics=command.metrics,
        hyperparameters=command.hyperparameters,
        feature_version=command.feature_version,
        sha256=command.sha256,
        source=command.source,
    )
    return registry


def activate_model_version(command: ActivateModelVersion, uow: UnitOfWork) -> ModelRegistry:
    registry = registry_of(uow)
    registry.activate(command.number)
    return registry


HANDLERS: dict[type[Command], Handler] = {
    RecordModelVersion: record_model_version,
    ActivateModelVersion: activate_model_version,
}
