"""Pure consensus rules: quorums, the decision of one voting round, the tally.

A round has a fixed set of participants. ``approvals`` and ``rejections`` are
the ids of the participants who have voted in that round so far; nobody appears
in both. Unweighted protocols give every participant weight 1; only the
weighted protocol reads ``weights``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class ConsensusProtocol(StrEnum):
    MAJORITY = "majority"
    SUPERMAJORITY = "supermajority"
    UNANIMOUS = "unanimous"
    BYZANTINE = "byzantine"
    WEIGHTED = "weighted"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def fault_tolerance(n: int) -> int:
    """The most faulty participants ``f`` that ``n`` can tolerate: n >= 3f + 1."""
    return max(n - 1, 0) // 3


def byzantine_quorum(n: int) -> int:
    """Approvals needed in each Byzantine round: 2f + 1."""
    return 2 * fault_tolerance(n) + 1


def majority_quorum(n: int) -> int:
    """Raft-style quorum: floor(n/2) + 1."""
    return n // 2 + 1


def supermajority_quorum(n: int) -> int:
    """ceil(2n/3) approvals."""
    return -(-2 * n // 3)


def quorum(protocol: ConsensusProtocol | str, n: int) -> int:
    """Approvals needed to accept under a count-based protocol (not weighted)."""
    protocol = ConsensusProtocol(protocol)
    if protocol is ConsensusProtocol.MAJORITY:
        return majority_quorum(n)
    if protocol is ConsensusProtocol.SUPERMAJORITY:
        return supermajority_quorum(n)
    if protocol is ConsensusProtocol.UNANIMOUS:
        return n
    if protocol is ConsensusProtocol.BYZANTINE:
        return byzantine_quorum(n)
    raise ValueError("the weighted protocol has no count quorum")


def _weights(
    protocol: ConsensusProtocol,
    participants: Collection[str],
    weights: Mapping[str, float] | None,
) -> dict[str, float]:
    if protocol is ConsensusProtocol.WEIGHTED and weights is not None:
        return {p: float(weights.get(p, 0.0)) for p in participants}
    return dict.fromkeys(participants, 1.0)


def decide(
    protocol: ConsensusProtocol | str,
    participants: Collection[str],
    weights: Mapping[str, float] | None,
    approvals: Collection[str],
    rejections: Collection[str],
) -> Outcome | None:
    """Decide one round, or return None while it is still open.

    Count-based protocols accept as soon as the approvals reach the quorum and
    reject as soon as the quorum can no longer be reached, i.e. when
    approvals + participants not yet voted < quorum. Weighted: accept when the
    approving weight is more than half the total participant weight; reject
    when the rejecting weight is at least half. Once everybody has voted every
    protocol has decided.
    """
    protocol = ConsensusProtocol(protocol)
    if protocol is ConsensusProtocol.WEIGHTED:
        w = _weights(protocol, participants, weights)
        total = math.fsum(w.values())
        if 2 * math.fsum(w[v] for v in approvals) > total:
            return Outcome.ACCEPTED
        if 2 * math.fsum(w[v] for v in rejections) >= total:
            return Outcome.REJECTED
        return None
    n = len(participants)
    needed = quorum(protocol, n)
    pending = n - len(approvals) - len(rejections)
    if len(approvals) >= needed:
        return Outcome.ACCEPTED
    if len(approvals) + pending < needed:
        return Outcome.REJECTED
    return None


@dataclass(frozen=True)
class Tally:
    """The count of one round.

    ``confidence`` is the weight of the votes agreeing with the outcome divided
    by the total weight of all participants (every weight is 1 for unweighted
    protocols); it is 0.0 when there is no outcome. ``unanimous`` is true when
    every participant voted and all voted the same way.
    """

    approvals: int
    rejections: int
    approve_weight: float
    reject_weight: float
    confidence: float
    unanimous: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tally(
    protocol: ConsensusProtocol | str,
    participants: Collection[str],
    weights: Mapping[str, float] | None,
    approvals: Collection[str],
    rejections: Collection[str],
    outcome: Outcome | str | None,
) -> Tally:
    """Count a round; see :class:`Tally` for the definitions."""
    protocol = ConsensusProtocol(protocol)
    w = _weights(protocol, participants, weights)
    total = math.fsum(w.values())
    approve_weight = math.fsum(w[v] for v in approvals)
    reject_weight = math.fsum(w[v] for v in rejections)
    agreeing = 0.0
    if outcome is not None:
        accepted = Outcome(outcome) is Outcome.ACCEPTED
        agreeing = approve_weight if accepted else reject_weight
    everyone = len(approvals) + len(rejections) == len(participants)
    return Tally(
        approvals=len(approvals),
        rejections=len(rejections),
        approve_weight=approve_weight,
        reject_weight=reject_weight,
        confidence=agreeing / total if total > 0 else 0.0,
        unanimous=everyone and (not approvals or not rejections),
    )
