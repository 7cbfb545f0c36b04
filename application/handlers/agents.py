"""Handlers of agent commands: load, call one method, hand back the agent."""

from __future__ import annotations

from application.bus import Handler
from application.commands import (
    Command,
    PauseAgent,
    ResumeAgent,
    SpawnAgent,
    TerminateAgent,
    TransitionAgent,
)
from application.unit_of_work import UnitOfWork
from domain.agent import Agent, AgentState


def spawn_agent(command: SpawnAgent, uow: UnitOfWork) -> Agent:
    agent = uow.add(
        Agent.spawn(
            name=command.name,
            agent_type=command.agent_type,
            capabilities=command.capabilities,
            max_load=command.max_load,
        )
    )
    if command.start:
        agent.transition(AgentState.INITIALIZING, reason="spawned")
        agent.transition(AgentState.READY, reason="initialised")
    return agent


def transition_agent(command: TransitionAgent, uow: UnitOfWork) -> Agent:
    agent = uow.get(Agent, command.agent_id)
    agent.transition(command.to_state, reason=command.reason)
    return agent


def pause_agent(command: PauseAgent, uow: UnitOfWork) -> Agent:
    agent = uow.get(Agent, command.agent_id)
    agent.pause(reason=command.reason)
    return agent


def resume_agent(command: ResumeAgent, uow: UnitOfWork) -> Agent:
    agent = uow.get(Agent, command.agent_id)
    agent.resume()
    return agent


def terminate_agent(command: TerminateAgent, uow: UnitOfWork) -> Agent:
    agent = uow.get(Agent, command.agent_id)
    agent.terminate(reason=command.reason)
    return agent


HANDLERS: dict[type[Command], Handler] = {
    SpawnAgent: spawn_agent,
    TransitionAgent: transition_agent,
    PauseAgent: pause_agent,
    ResumeAgent: resume_agent,
    TerminateAgent: terminate_agent,
}
