"""GraphQL layer of service/rollups."""
