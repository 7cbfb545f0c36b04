"""What a policy would do for a range of the log, without doing it.

A policy's reactions are commands: replaying them for real would act a second
time (assign a task twice, score a vote twice), so a policy is only ever replayed
dry: each event it reacts to, and the command it would issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from application.commands import Command
from application.log import pages
from application.policies.reactions import Policy
from application.store import EventStore


@dataclass(frozen=True)
class Reaction:
    position: int
    event_type: str
    stream_id: str
    command: Command | None


def policy_reactions(
    store: EventStore, policy: Policy, *, start: int = 1, stop: int | None = None
) -> Iterator[Reaction]:
    """Each event of ``start..stop`` the policy reacts to, with the command it would
    issue now (None when it lets the event pass)."""
    topics = [get_topic(kind) for kind in policy.reacts_to]
    for page in pages(store, start=start, stop=stop, topics=topics):
        for notification in page:
            event: Any = store.decode(notification)
            yield Reaction(
                position=notification.id,
                event_type=type(event).__qualname__,
                stream_id=str(event.originator_id),
                command=policy.react(event),
            )
