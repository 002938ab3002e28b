"""The assembled Strawberry schema."""

import strawberry

from schema.organization.queries import OrganizationQueries


@strawberry.type(description="Entry points for reading Lodestar.")
class Query(OrganizationQueries):
    pass


schema = strawberry.Schema(query=Query)
