"""The one schema: every aggregate's queries, mutations and subscriptions merged, with
limits on depth, aliases, tokens and estimated cost (complexity.py)."""

from __future__ import annotations

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from api.graphql.admin import AdminMutations, AdminQueries
from api.graphql.agents import AgentMutations, AgentQueries
from api.graphql.coded_errors import CodedSchema
from api.graphql.complexity import ComplexityLimit, IntrospectionDepthLimit
from api.graphql.log import LogQueries
from api.graphql.neural import NeuralMutations, NeuralQueries
from api.graphql.proposals import ProposalMutations, ProposalQueries
from api.graphql.scalars import SCALARS
from api.graphql.subscriptions import Subscription
from api.graphql.swarms import SwarmMutations, SwarmQueries
from api.graphql.tasks import TaskMutations, TaskQueries

MAX_DEPTH = 8
MAX_ALIASES = 30
MAX_TOKENS = 5000
CACHED_DOCUMENTS = 1000
"""Parsed and validated documents kept: clients send the same few again and again."""


@strawberry.type
class Query(
    AgentQueries,
    SwarmQueries,
    TaskQueries,
    ProposalQueries,
    LogQueries,
    AdminQueries,
    NeuralQueries,
):
    pass


@strawberry.type
class Mutation(
    AgentMutations,
    SwarmMutations,
    TaskMutations,
    ProposalMutations,
    AdminMutations,
    NeuralMutations,
):
    pass


LIMITS = (
    depth_rule(MAX_DEPTH, None, None),
    aliases_rule(MAX_ALIASES),
    ComplexityLimit,
    IntrospectionDepthLimit,
)
"""Made once: a validated document is cached under the rules that checked it."""

schema = CodedSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(scalar_map=SCALARS),
    extensions=[
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        lambda: AddValidationRules(list(LIMITS)),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ],
)
