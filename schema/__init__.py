"""The GraphQL layer: Strawberry types, queries and mutations over the `service` package."""
