"""Handlers of swarm commands."""

from __future__ import annotations

from application.bus import Handler
from application.commands import (
    ChangeSwarmStrategy,
    Command,
    InitSwarm,
    JoinSwarm,
    LeaveSwarm,
    OptimizeSwarm,
    ScaleSwarm,
    ShutdownSwarm,
)
from application.unit_of_work import UnitOfWork
from domain.agent import Agent, AgentState
from domain.errors import InvalidTransition
from domain.swarm import Swarm


def init_swarm(command: InitSwarm, uow: UnitOfWork) -> Swarm:
    return uow.add(
        Swarm.init(
            name=command.name,
            topology=command.topology,
            strategy=command.strategy,
            max_agents=command.max_agents,
            max_depth=command.max_depth,
            branching_factor=command.branching_factor,
        )
    )


def join_swarm(command: JoinSwarm, uow: UnitOfWork) -> Swarm:
    swarm = uow.get(Swarm, command.swarm_id)
    agent = uow.read(Agent, command.agent_id)
    if agent.state == AgentState.TERMINATED:
        raise InvalidTransition(
            f"agent {agent.id} is terminated and cannot join a swarm",
            current=agent.state,
        )
    swarm.join(agent.id, agent.agent_type, agent.capabilities)
    return swarm


def leave_swarm(command: LeaveSwarm, uow: UnitOfWork) -> Swarm:
    swarm = uow.get(Swarm, command.swarm_id)
    swarm.leave(command.agent_id, reason=command.reason)
    return swarm


def scale_swarm(command: ScaleSwarm, uow: UnitOfWork) -> Swarm:
    swarm = uow.get(Swarm, command.swarm_id)
    swarm.scale(command.max_agents)
    return swarm


def optimize_swarm(command: OptimizeSwarm, uow: UnitOfWork) -> Swarm:
    swarm = uow.get(Swarm, command.swarm_id)
    swarm.optimize()
    return swarm


def shutdown_swarm(command: ShutdownSwarm, uow: UnitOfWork) -> Swarm:
    swarm = uow.get(Swarm, command.swarm_id)
    swarm.shut_down(reason=command.reason)
    return swarm


def change_swarm_strategy(command: ChangeSwarmStrategy, uow: UnitOfWork) -> Swarm:
    swarm = uow.get(Swarm, command.swarm_id)
    swarm.change_strategy(command.strategy)
    return swarm


HANDLERS: dict[type[Command], Handler] = {
    InitSwarm: init_swarm,
    JoinSwarm: join_swarm,
    LeaveSwarm: leave_swarm,
    ScaleSwarm: scale_swarm,
    OptimizeSwarm: optimize_swarm,
    ShutdownSwarm: shutdown_swarm,
    ChangeSwarmStrategy: change_swarm_strategy,
}
