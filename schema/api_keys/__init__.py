"""GraphQL layer of service/api_keys."""
