"""The `/graphql` HTTP edge: the route, its context and the GraphiQL page."""
