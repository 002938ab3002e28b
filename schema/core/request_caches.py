"""Caches of the work every request repeats for the same query text: parsing, validation."""

from collections.abc import Iterator

from strawberry.extensions import ParserCache


class ParsedQueryCache(ParserCache):
    """Strawberry's ParserCache, except that a query that does not parse is left to
    Strawberry's own parse step, which reports the error as a response (the cache's hook
    would raise it out of the operation, past the error shaping)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except Exception:
            context.graphql_document = None
        yield
