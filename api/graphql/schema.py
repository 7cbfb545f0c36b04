"""The one schema: every aggregate's queries and mutations merged, with limits."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from api.graphql.admin import AdminMutations, AdminQueries
from api.graphql.agents import AgentMutations, AgentQueries
from api.graphql.log import LogQueries
from api.graphql.proposals import ProposalMutations, ProposalQueries
from api.graphql.subscriptions import Subscription
from api.graphql.swarms import SwarmMutations, SwarmQueries
from api.graphql.tasks import TaskMutations, TaskQueries

MAX_DEPTH = 8
MAX_ALIASES = 30
MAX_TOKENS = 5000


@strawberry.type
class Query(AgentQueries, SwarmQueries, TaskQueries, ProposalQueries, LogQueries, AdminQueries):
    pass


@strawberry.type
class Mutation(AgentMutations, SwarmMutations, TaskMutations, ProposalMutations, AdminMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ],
)
