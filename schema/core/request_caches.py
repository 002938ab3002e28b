"""Caches of the work every request repeats for the same query text: parsing, validation."""

from collections.abc import Callable

from strawberry.extensions import SchemaExtension, ValidationCache

from schema.core.framework import ParsedQueryCache


def cache_extensions(maxsize: int = 256) -> list[Callable[[], SchemaExtension]]:
    """Factories of the cache extensions: Strawberry's `ValidationCache`, and its parse
    cache that leaves a query that does not parse to Strawberry's own parse step
    (`schema.core.framework.ParsedQueryCache`)."""
    return [lambda: ParsedQueryCache(maxsize=maxsize), lambda: ValidationCache(maxsize=maxsize)]
