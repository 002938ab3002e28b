"""Caches of the work every request repeats for the same query text: parsing, validation."""

from collections.abc import Callable

from strawberry.extensions import SchemaExtension

from schema.core.framework import GuardedValidationCache, ParsedQueryCache


def cache_extensions(maxsize: int = 256) -> list[Callable[[], SchemaExtension]]:
    """Factories of the cache extensions: Strawberry's validation cache, skipping operations
    already refused (`GuardedValidationCache`), and its parse cache, leaving a query that does
    not parse to Strawberry's own parse step (`ParsedQueryCache`)."""
    return [
        lambda: ParsedQueryCache(maxsize=maxsize),
        lambda: GuardedValidationCache(maxsize=maxsize),
    ]
