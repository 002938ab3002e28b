"""GraphQL layer of service/cycles."""
