"""How long Lodestar takes to refuse abusive GraphQL documents, and to accept the most
expensive documents its limits let through (parse, cost, validation; no database).

    python bench/graphql_abuse.py [--repeat 20]

Each document runs through the real schema (`schema.schema.build_schema`) with default
settings, as `/graphql` runs it, minus HTTP and the database: the refusals happen before
either matters. Prints the median and worst time per document; the target is a refusal
in under 50 ms (docs/decisions/0020-graphql-cost-before-validation.md).
"""

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphql import get_introspection_query

from schema.schema import build_schema
from service.app import GC_THRESHOLDS
from service.settings import Settings
from tests.graphql.test_abuse import (
    aliases_through_fragments,
    depth_through_fragments,
    fragment_bomb,
)


def at_the_limits() -> str:
    """Nine aliased lists, each selecting 98 `__typename` of its items (the widest set
    allowed is 100): 900 fields (of 1,000); graphql-core's overlapping-fields rule compares
    every pair of equal fields within a set."""
    filler = " ".join(["__typename"] * 98)
    lists = " ".join(f"p{index}: people(first: 1) {{ nodes {{ {filler} }} }}" for index in range(9))
    return f"query {{ {lists} }}"


def accepted() -> dict[str, str]:
    """Documents at (not over) the default limits: what a caller may make the server
    validate."""
    aliases = " ".join(f"a{index}: organization {{ name }}" for index in range(15))
    return {
        "900 fields, 9 sets of 98 equal fields": at_the_limits(),
        "15 aliases of organization { name }": f"query {{ {aliases} }}",
        "GraphiQL's introspection query": get_introspection_query(descriptions=True),
    }


def refused() -> dict[str, str]:
    return {
        "fragment bomb 2^21 (885 bytes)": fragment_bomb(21),
        "fragment bomb 2^30": fragment_bomb(30),
        "497 × organization { name }": "{ " + " ".join(["organization { name }"] * 497) + " }",
        "aliases through fragments": aliases_through_fragments(),
        "depth through fragments": depth_through_fragments(),
        "101 fragment spreads": "{ " + "...S " * 101 + "} fragment S on Query { __typename }",
        "hourly series of 100 metrics over 6 years": (
            '{ metrics(first: 100) { nodes { series(start: "2020-01-01T00:00:00Z",'
            ' end: "2026-01-01T00:00:00Z", interval: HOUR) { bucketStart value } } } }'
        ),
        "9.9 MB document": "{ organization { name } } #" + "x" * 9_900_000,
    }


async def timed(schema: object, query: str, repeat: int) -> tuple[list[float], object]:
    times = []
    result = None
    for round_ in range(repeat):
        # A different text each time: no parse or validation cache answers for it.
        text = f"{query}\n# {round_}"
        started = time.perf_counter()
        result = await schema.execute(text)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
    return times, result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    schema = build_schema(Settings(database_url=None))
    # The collector as a serving process sets it up (service/app.py, decision 0013).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    print(f"{'document':48} {'outcome':32} {'median ms':>10} {'worst ms':>10}")
    for kind, documents in (("refused", refused()), ("accepted", accepted())):
        for name, query in documents.items():
            if len(query) > 1_000_000:
                # Over the document size limit: refused by the HTTP router before parsing.
                from schema.core.limits import document_refusal

                started = time.perf_counter()
                refusal = document_refusal(query, Settings(database_url=None))
                took = [time.perf_counter() - started]
                outcome = refusal.code if refusal else "accepted"
            else:
                took, result = await timed(schema, query, args.repeat)
                errors = getattr(result, "errors", None) or []
                codes = {(error.extensions or {}).get("code", "?") for error in errors}
                outcome = ",".join(sorted(codes)) if codes else "accepted"
                if kind == "accepted" and codes - {"FORBIDDEN"}:
                    outcome = f"UNEXPECTED {outcome}"
            print(
                f"{name:48} {outcome:32} {statistics.median(took) * 1000:10.2f}"
                f" {max(took) * 1000:10.2f}"
            )


if __name__ == "__main__":
    asyncio.run(main())
