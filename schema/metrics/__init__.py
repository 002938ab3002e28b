"""GraphQL layer of service/metrics."""
