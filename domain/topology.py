"""Pure functions over a swarm's members: placement, paths, links and load.

Members are a mapping ``agent_id -> Member`` (plain JSON-friendly dicts, as the
Swarm aggregate stores them). In a hierarchical swarm the members form one tree:
every ``parent_id`` names a member, ``depth < max_depth`` and no member has more
than ``branching_factor`` children. Placement functions keep those invariants.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from domain.errors import CapacityExceeded, NotFound


class Member(TypedDict):
    agent_type: str
    capabilities: list[str]
    parent_id: str | None
    depth: int
    position: int


Members = Mapping[str, Member]


def capability_match(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard similarity |a & b| / |a | b|; 0.0 when both are empty."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 0.0


def placement_score(spare: float, match: float) -> float:
    return 0.4 * spare + 0.6 * match


def by_position(members: Members) -> list[str]:
    return sorted(members, key=lambda m: members[m]["position"])


def children_map(members: Members) -> dict[str, list[str]]:
    """agent_id -> its children in join order (every member has an entry)."""
    kids: dict[str, list[str]] = {m: [] for m in members}
    for m in by_position(members):
        parent = members[m]["parent_id"]
        if parent is not None and parent in kids:
            kids[parent].append(m)
    return kids


def place_hierarchical(
    members: Members,
    capabilities: Iterable[str],
    max_depth: int,
    branching_factor: int,
    *,
    height: int = 0,
) -> tuple[str | None, int]:
    """The best (parent_id, depth) for a newcomer; (None, 0) in an empty tree.

    ``height`` is the height of a subtree that moves with the newcomer: the
    parent must leave room for it below ``max_depth``. Best score wins; ties go
    to the shallower candidate, then to the earlier joined.
    """
    if not members:
        return None, 0
    caps = list(capabilities)
    counts = {m: len(k) for m, k in children_map(members).items()}
    best: str | None = None
    best_key: tuple[float, int, int] | None = None
    for mid, m in members.items():
        kids = counts[mid]
        if m["depth"] + 1 + height >= max_depth or kids >= branching_factor:
            continue
        spare = 1 - kids / branching_factor
        score = placement_score(spare, capability_match(caps, m["capabilities"]))
        key = (-round(score, 9), m["depth"], m["position"])
        if best_key is None or key < best_key:
            best, best_key = mid, key
    if best is None:
        raise CapacityExceeded(
            f"no slot in the hierarchy: every member is at depth limit "
            f"{max_depth} or has {branching_factor} children",
            max_depth=max_depth,
            branching_factor=branching_factor,
            members=len(members),
        )
    return best, members[best]["depth"] + 1


def _subtree(kids: Mapping[str, list[str]], root: str) -> list[str]:
    out, queue = [], deque([root])
    while queue:
        node = queue.popleft()
        out.append(node)
        queue.extend(kids[node])
    return out


def _height(kids: Mapping[str, list[str]], root: str) -> int:
    return max((1 + _height(kids, c) for c in kids[root]), default=0)


def rehome_children(
    members: Members, leaving_id: str, max_depth: int, branching_factor: int
) -> list[dict[str, Any]]:
    """New {agent_id, parent_id, depth} for every member that moves when one leaves.

    Each child of the leaving member is re-placed by the usual scoring with its
    whole subtree. When the leaving member was the root, its first child takes
    its place. A subtree that fits nowhere whole is split: its root is placed
    alone and its children are re-placed in turn (a single node always fits,
    since the tree held one more member before).
    """
    kids = children_map(members)
    detached = {n for c in kids[leaving_id] for n in _subtree(kids, c)}
    placed: dict[str, Member] = {
        k: Member(**v) for k, v in members.items() if k != leaving_id and k not in detached
    }
    pending = deque(kids[leaving_id])
    while pending:
        root = pending.popleft()
        caps = members[root]["capabilities"]
        try:
            parent, depth = place_hierarchical(
                placed, caps, max_depth, branching_factor, height=_height(kids, root)
            )
            moving = _subtree(kids, root)
        except CapacityExceeded:
            parent, depth = place_hierarchical(placed, caps, max_depth, branching_factor)
            moving = [root]
            pending.extendleft(reversed(kids[root]))
        shift = depth - members[root]["depth"]
        for node in moving:
            placed[node] = Member(**{**members[node], "depth": members[node]["depth"] + shift})
        placed[root]["parent_id"] = parent
    return [
        {
            "agent_id": m,
            "parent_id": placed[m]["parent_id"],
            "depth": placed[m]["depth"],
        }
        for m in by_position(placed)
        if (placed[m]["parent_id"], placed[m]["depth"])
        != (members[m]["parent_id"], members[m]["depth"])
    ]


def rebuild_hierarchy(
    members: Members, leader: str | None, max_depth: int, branching_factor: int
) -> list[dict[str, Any]]:
    """A fresh tree: the leader as root, then the others by descending number of
    capabilities (then join order), each placed by the usual scoring. Positions
    are compacted to 0..n-1 keeping join order."""
    order = by_position(members)
    positions = {m: i for i, m in enumerate(order)}
    ranked = sorted(
        (m for m in order if m != leader),
        key=lambda m: (-len(members[m]["capabilities"]), positions[m]),
    )
    if leader is not None and leader in members:
        ranked.insert(0, leader)
    tree: dict[str, Member] = {}
    for m in ranked:
        parent, depth = place_hierarchical(
            tree, members[m]["capabilities"], max_depth, branching_factor
        )
        tree[m] = Member(**{**members[m], "parent_id": parent, "depth": depth})
    return [
        {
            "agent_id": m,
            "parent_id": tree[m]["parent_id"],
            "depth": tree[m]["depth"],
            "position": positions[m],
        }
        for m in order
    ]


def _hub(members: Members, leader: str | None) -> str:
    if leader is not None and leader in members:
        return leader
    return by_position(members)[0]


def _ancestry(members: Members, node: str) -> list[str]:
    chain = [node]
    while (parent := members[chain[-1]]["parent_id"]) is not None:
        chain.append(parent)
    return chain


def optimal_path(
    topology: str, members: Members, a: str, b: str, leader: str | None = None
) -> list[str]:
    """The shortest route from ``a`` to ``b`` along the topology's links."""
    for node in (a, b):
        if node not in members:
            raise NotFound(f"{node} is not a member of the swarm", agent_id=node)
    if a == b:
        return [a]
    if topology == "ring":
        ring = by_position(members)
        n, i, j = len(ring), ring.index(a), ring.index(b)
        forward = (j - i) % n
        step = 1 if forward <= n - forward else -1
        hops = forward if step == 1 else n - forward
        return [ring[(i + step * k) % n] for k in range(hops + 1)]
    if topology == "star":
        hub = _hub(members, leader)
        return [a, b] if hub in (a, b) else [a, hub, b]
    if topology == "hierarchical":
        up, down = _ancestry(members, a), _ancestry(members, b)
        common = next((n for n in up if n in down), None)
        if common is None:
            return up + down[::-1]
        return up[: up.index(common) + 1] + down[: down.index(common)][::-1]
    return [a, b]


def links(topology: str, members: Members, leader: str | None = None) -> list[tuple[str, str]]:
    """The topology's edges as (from, to) pairs, in join order."""
    order = by_position(members)
    if topology == "mesh":
        return [(x, y) for i, x in enumerate(order) for y in order[i + 1 :]]
    if topology == "ring":
        if len(order) < 3:
            return [(order[0], order[1])] if len(order) == 2 else []
        return [(x, order[(i + 1) % len(order)]) for i, x in enumerate(order)]
    if topology == "star":
        if not order:
            return []
        hub = _hub(members, leader)
        return [(hub, m) for m in order if m != hub]
    return [(parent, m) for m in order if (parent := members[m]["parent_id"]) is not None]


def load_distribution(loads: Mapping[str, int | float]) -> dict[str, Any]:
    """per_member, total, mean, max, min and imbalance (population stddev / mean)."""
    values = list(loads.values())
    total = sum(values)
    mean = total / len(values) if values else 0.0
    variance = sum((v - mean) ** 2 for v in values) / len(values) if values else 0.0
    return {
        "per_member": dict(loads),
        "total": total,
        "mean": mean,
        "max": max(values, default=0),
        "min": min(values, default=0),
        "imbalance": math.sqrt(variance) / mean if mean else 0.0,
    }
