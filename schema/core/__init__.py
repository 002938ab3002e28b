"""The GraphQL kit every domain of the schema uses: context, errors, limits, relay ids,
connections, loaders and the mutation runner."""
