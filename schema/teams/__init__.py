"""GraphQL layer of service/teams."""
