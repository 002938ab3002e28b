"""GraphQL layer of service/key_results."""
