"""A limit on what one operation may ask for, estimated before it runs.

Each field costs 1; a paginated field multiplies the cost of what it selects by the
page it asks for (``first``: the literal, or ``VARIABLE_PAGE`` when a variable gives it), and any
other list of objects by ``LIST_SIZE``. An operation costing more than
``MAX_COMPLEXITY`` is refused with the code TOO_COMPLEX before anything is read.
Depth, aliases and tokens have limits of their own (see schema.py).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_object_type,
)

MAX_COMPLEXITY = 20_000
LIST_SIZE = 20
"""What a list without a page size (members, votes, points) is assumed to hold."""
PAGE_CAP = 1000
"""The largest page any field allows."""
VARIABLE_PAGE = 200
"""What a page size given by a variable counts as (the cap of every entity list)."""


class TooComplex(GraphQLError):
    pass


class ComplexityLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }[node.operation]
        if root is None:
            return
        cost = self._cost(node.selection_set, root, paged=False, seen=frozenset())
        if cost > MAX_COMPLEXITY:
            self.report_error(
                GraphQLError(
                    f"the operation would cost about {cost} (fields × page sizes); "
                    f"the limit is {MAX_COMPLEXITY}: ask for smaller pages or fewer fields",
                    node,
                    extensions={"code": "TOO_COMPLEX"},
                )
            )

    def _cost(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLObjectType,
        *,
        paged: bool,
        seen: frozenset[str],
    ) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, paged=paged, seen=seen)
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, parent, paged=paged, seen=seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:
                    total += self._cost(
                        fragment.selection_set, parent, paged=paged, seen=seen | {name}
                    )
        return total

    def _field(
        self, node: FieldNode, parent: GraphQLObjectType, *, paged: bool, seen: frozenset[str]
    ) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 1  # __typename, or an unknown field another rule reports
        named = get_named_type(definition.type)
        if not is_object_type(named):
            return 1
        page = _page(node)
        if page is not None:
            multiplier, paged_below = page, True
        elif is_list_type(get_nullable_type(definition.type)):
            multiplier, paged_below = (1 if paged else LIST_SIZE), False
        else:
            multiplier, paged_below = 1, paged
        assert isinstance(named, GraphQLObjectType)
        inner = self._cost(node.selection_set, named, paged=paged_below, seen=seen)
        return 1 + multiplier * inner


def _page(node: FieldNode) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), PAGE_CAP))
            return VARIABLE_PAGE
    return None


MAX_INTROSPECTION_DEPTH = 15
"""GraphiQL's own introspection query goes about 13 deep (its TypeRef fragment nests
``ofType`` seven times); the depth limit of ordinary fields leaves introspection out."""


class IntrospectionDepthLimit(ValidationRule):
    """Refuses an introspection selection nested deeper than ``MAX_INTROSPECTION_DEPTH``
    (fragments followed), with the code BAD_REQUEST."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        deepest = self._depth(node.selection_set, 0, frozenset())
        if deepest > MAX_INTROSPECTION_DEPTH:
            self.report_error(
                GraphQLError(
                    f"the operation nests {deepest} deep; at most "
                    f"{MAX_INTROSPECTION_DEPTH} is allowed",
                    node,
                    extensions={"code": "BAD_REQUEST"},
                )
            )

    def _depth(self, selections: SelectionSetNode | None, depth: int, seen: frozenset[str]) -> int:
        if selections is None or depth > MAX_INTROSPECTION_DEPTH:
            return depth
        deepest = depth
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                found = self._depth(selection.selection_set, depth + 1, seen)
            elif isinstance(selection, InlineFragmentNode):
                found = self._depth(selection.selection_set, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in seen:
                    continue
                found = self._depth(fragment.selection_set, depth, seen | {name})
            else:
                continue
            deepest = max(deepest, found)
        return deepest
