"""What operators and admins read and do: the audit log, swarm metrics, expertise,
projection status, and rebuilding a projection."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.agents import PageInfo
from api.graphql.context import Context
from api.graphql.errors import UserError, parse_id
from api.graphql.scalars import Position
from domain.errors import DomainError, NotFound, ValidationError
from projections.queries.audit import MAX_PAGE, AuditCursor, AuditEntry, audit_log
from projections.queries.expertise import ExpertiseView, agent_expertise
from projections.queries.metrics import MetricPoint, swarm_metrics


@strawberry.type(description="One event of the audit log: who caused it, and within what.")
class AuditEntryNode:
    stream_id: strawberry.ID
    version: int
    event_type: str
    actor: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime
    detail: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryNode:
        return cls(
            stream_id=strawberry.ID(entry.stream_id),
            version=entry.version,
            event_type=entry.event_type,
            actor=entry.actor,
            correlation_id=entry.correlation_id,
            causation_id=entry.causation_id,
            occurred_at=entry.occurred_at,
            detail=entry.detail,
        )


@strawberry.type
class AuditConnection:
    nodes: list[AuditEntryNode]
    page_info: PageInfo


def audit_cursor(entry: AuditEntry) -> str:
    raw = json.dumps([entry.occurred_at.isoformat(), entry.stream_id, entry.version])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def parse_audit_cursor(cursor: str) -> AuditCursor:
    try:
        moment, stream_id, version = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return AuditCursor(datetime.fromisoformat(moment), str(stream_id), int(version))
    except (ValueError, TypeError):
        raise ValidationError("not a cursor this query returned", field="after") from None


@strawberry.type(name="MetricPoint", description="One minute of a swarm's work.")
class MetricPointNode:
    minute: datetime
    tasks_created: int
    tasks_completed: int
    tasks_failed: int
    queue_depth_end: int
    success_rate: float | None

    @classmethod
    def of(cls, point: MetricPoint) -> MetricPointNode:
        return cls(
            minute=point.minute,
            tasks_created=point.tasks_created,
            tasks_completed=point.tasks_completed,
            tasks_failed=point.tasks_failed,
            queue_depth_end=point.queue_depth_end,
            success_rate=point.success_rate,
        )


@strawberry.type(description="A swarm's series by minute, oldest first, with its totals.")
class SwarmMetrics:
    swarm_id: strawberry.ID
    points: list[MetricPointNode]
    tasks_created: int
    tasks_completed: int
    tasks_failed: int
    success_rate: float | None


@strawberry.type(description="An agent's voting record and its expertise now.")
class Expertise:
    agent_id: strawberry.ID
    votes_cast: int
    votes_agreed: int
    accuracy: float
    volume: float
    last_vote_at: datetime | None
    expertise: float

    @classmethod
    def of(cls, view: ExpertiseView) -> Expertise:
        return cls(
            agent_id=strawberry.ID(view.agent_id),
            votes_cast=view.votes_cast,
            votes_agreed=view.votes_agreed,
            accuracy=view.accuracy,
            volume=view.volume,
            last_vote_at=view.last_vote_at,
            expertise=view.expertise,
        )


@strawberry.type(description="Where a projection stands against the head of the log.")
class ProjectionStatus:
    name: str
    version: int
    generation: int
    state: str
    position: Position
    head: Position
    lag: Position = strawberry.field(
        description="Positions behind the head: events, or bytes on EventStoreDB."
    )
    lag_seconds: float
    dead_letters: int
    owner: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> ProjectionStatus:
        return cls(
            name=row["name"],
            version=row["version"],
            generation=row["generation"],
            state=row["state"],
            position=row["checkpoint"],
            head=row["head"],
            lag=row["lag"],
            lag_seconds=row["lag_seconds"],
            dead_letters=row["dead_letters"],
            owner=row["owner"],
        )


@strawberry.type(description="The projection as it is once its rebuild has started.")
class RebuildProjectionPayload:
    projection: ProjectionStatus | None
    started: bool
    errors: list[UserError]


def _status(context: Context, name: str) -> ProjectionStatus:
    rows = [row for row in context.runtime.runner.status() if row["name"] == name]
    return ProjectionStatus.of(rows[0])


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@strawberry.type
class AdminQueries:
    @strawberry.field(
        description="Every event and every refused request in time order; admins only."
    )
    async def audit_log(
        self,
        info: Info[Context, Any],
        first: int = 100,
        after: str | None = None,
        actor: str | None = None,
        stream_id: strawberry.ID | None = None,
        event_type: str | None = None,
        at_least: Position | None = None,
    ) -> AuditConnection:
        context: Context = info.context
        await context.read("audit:read", info.field_name, "audit", at_least)
        size = max(1, min(first, MAX_PAGE))
        try:
            cursor = parse_audit_cursor(after) if after else None
            entries = await asyncio.to_thread(
                audit_log,
                context.runtime.runner.engine,
                actor=actor,
                stream_id=str(parse_id(stream_id, "streamId")) if stream_id else None,
                event_type=event_type,
                after=cursor,
                limit=size + 1,
            )
        except DomainError as error:
            raise context.error(error) from None
        page = entries[:size]
        return AuditConnection(
            nodes=[AuditEntryNode.of(e) for e in page],
            page_info=PageInfo(
                end_cursor=audit_cursor(page[-1]) if page else None,
                has_next_page=len(entries) > size,
            ),
        )

    @strawberry.field(description="A swarm's task metrics by minute, from `since` on.")
    async def swarm_metrics(
        self,
        info: Info[Context, Any],
        swarm_id: strawberry.ID,
        since: datetime | None = None,
        at_least: Position | None = None,
    ) -> SwarmMetrics:
        context: Context = info.context
        await context.read("metrics:read", info.field_name, "swarm_metrics", at_least)
        try:
            key = str(parse_id(swarm_id, "swarmId"))
        except DomainError as error:
            raise context.error(error) from None
        found = await asyncio.to_thread(
            swarm_metrics, context.runtime.runner.engine, key, _aware(since)
        )
        return SwarmMetrics(
            swarm_id=strawberry.ID(found.swarm_id),
            points=[MetricPointNode.of(p) for p in found.points],
            tasks_created=found.tasks_created,
            tasks_completed=found.tasks_completed,
            tasks_failed=found.tasks_failed,
            success_rate=found.success_rate,
        )

    @strawberry.field(description="An agent's expertise now, from its voting record.")
    async def agent_expertise(
        self, info: Info[Context, Any], agent_id: strawberry.ID, at_least: Position | None = None
    ) -> Expertise | None:
        context: Context = info.context
        await context.read("expertise:read", info.field_name, "expertise", at_least)
        try:
            key = str(parse_id(agent_id, "agentId"))
        except DomainError as error:
            raise context.error(error) from None
        view = await asyncio.to_thread(
            agent_expertise, context.runtime.runner.engine, key, datetime.now(UTC)
        )
        return Expertise.of(view) if view is not None else None

    @strawberry.field(description="Every projection's position, lag and state; admins only.")
    async def projection_status(self, info: Info[Context, Any]) -> list[ProjectionStatus]:
        context: Context = info.context
        await context.read("projection:read", info.field_name)
        rows = await asyncio.to_thread(context.runtime.runner.status)
        return [ProjectionStatus.of(row) for row in rows]


@strawberry.type
class AdminMutations:
    @strawberry.mutation(
        description="Rebuild a read model beside the live one and swap it in when caught up."
    )
    async def rebuild_projection(
        self, info: Info[Context, Any], name: str
    ) -> RebuildProjectionPayload:
        context: Context = info.context
        try:
            await context.require("projection:rebuild", info.field_name)
            if name not in context.runtime.runner.by_name:
                known = ", ".join(sorted(context.runtime.runner.by_name))
                raise NotFound(f"no projection {name[:100]!r}; there are {known}", field="name")
            started = context.runtime.rebuild(name)
        except DomainError as error:
            context.runtime.metrics.graphql_errors.labels(error.code).inc()
            return RebuildProjectionPayload(
                projection=None, started=False, errors=[UserError.of(error)]
            )
        status = await asyncio.to_thread(_status, context, name)
        return RebuildProjectionPayload(projection=status, started=started, errors=[])
