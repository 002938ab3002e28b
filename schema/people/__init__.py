"""GraphQL layer of service/people."""
