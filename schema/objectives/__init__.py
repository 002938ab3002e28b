"""GraphQL layer of service/objectives."""
