"""The root mutation type: every domain's mutations, named noun-verb."""

import strawberry

from schema.api_keys.mutations import ApiKeyMutations
from schema.commitments.mutations import CommitmentMutations
from schema.cycles.mutations import CycleMutations
from schema.key_results.mutations import KeyResultMutations
from schema.metrics.mutations import MetricMutations
from schema.objectives.mutations import ObjectiveMutations
from schema.organization.mutations import OrganizationMutations
from schema.people.mutations import PeopleMutations
from schema.teams.mutations import TeamMutations
from schema.webhooks.mutations import WebhookMutations


@strawberry.type(description="Entry points for changing Lodestar; each takes one `input`.")
class Mutation(
    PeopleMutations,
    TeamMutations,
    CycleMutations,
    MetricMutations,
    ObjectiveMutations,
    KeyResultMutations,
    CommitmentMutations,
    ApiKeyMutations,
    WebhookMutations,
    OrganizationMutations,
):
    pass
