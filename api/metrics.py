"""Prometheus metrics of the API process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per app, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "swarmlog_commands_total",
            "Commands handled, by type and outcome (ok or the error code).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "swarmlog_command_seconds",
            "Time to handle a command, by type.",
            ["command"],
            registry=self.registry,
        )
        self.projection_lag = Gauge(
            "swarmlog_projection_lag_events",
            "Events of the log a projection has not applied yet.",
            ["projection"],
            registry=self.registry,
        )
        self.graphql_errors = Counter(
            "swarmlog_graphql_errors_total",
            "Errors returned by the GraphQL API, by code.",
            ["code"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "swarmlog_access_refusals_total",
            "Requests refused for want of a valid token or a permission, by code.",
            ["code"],
            registry=self.registry,
        )
