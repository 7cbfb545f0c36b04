"""Every command of swarmlog, by aggregate."""

from application.commands.agent import (
    PauseAgent,
    ResumeAgent,
    SpawnAgent,
    TerminateAgent,
    TransitionAgent,
)
from application.commands.base import Command, parse_command
from application.commands.neural import ActivateModelVersion, RecordModelVersion
from application.commands.policy import (
    CarryOutProposal,
    ReleaseTask,
    RequeueTasks,
    ResolveDependents,
    ScoreVotes,
    TakeTask,
)
from application.commands.proposal import CastVote, CloseExpiredProposal, CreateProposal
from application.commands.swarm import (
    ChangeSwarmStrategy,
    InitSwarm,
    JoinSwarm,
    LeaveSwarm,
    OptimizeSwarm,
    ScaleSwarm,
    ShutdownSwarm,
)
from application.commands.task import (
    AssignTask,
    CancelTask,
    CompleteTask,
    CreateTask,
    FailTask,
    ReportTaskProgress,
    RetryTask,
    StartTask,
    TimeOutTask,
)

__all__ = [
    "ActivateModelVersion",
    "AssignTask",
    "CancelTask",
    "CarryOutProposal",
    "CastVote",
    "ChangeSwarmStrategy",
    "CloseExpiredProposal",
    "Command",
    "CompleteTask",
    "CreateProposal",
    "CreateTask",
    "FailTask",
    "InitSwarm",
    "JoinSwarm",
    "LeaveSwarm",
    "OptimizeSwarm",
    "PauseAgent",
    "RecordModelVersion",
    "ReleaseTask",
    "ReportTaskProgress",
    "RequeueTasks",
    "ResolveDependents",
    "ResumeAgent",
    "RetryTask",
    "ScaleSwarm",
    "ScoreVotes",
    "ShutdownSwarm",
    "SpawnAgent",
    "StartTask",
    "TakeTask",
    "TerminateAgent",
    "TimeOutTask",
    "TransitionAgent",
    "parse_command",
]
