"""GraphQL layer of service/commitments."""
